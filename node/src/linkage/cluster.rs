//! A side's rows clustered into subjects without chaining (issue 6; design-review F4 item 1:
//! "a B-subject is B's own plaintext linkage cluster, built from NHS number first").
//!
//! The import's subject hash (`dataset::row::subject_key`) is the NHS number when a row has
//! one, else the exact name and date of birth. One person seen once with an NHS number and
//! once without is then two subjects holding the same `name_dob` value, and unique-or-random
//! drops that value from both: on the synthetic county, this alone lost most of the missed
//! links. [`cluster_rows`] joins such rows — but never chains unlike records together, the
//! failure Splink's users meet with connected components: a cluster never holds two different
//! NHS numbers or two different dates of birth, so a mother's NHS number on her child's record
//! (different DOB) or two namesakes born the same day with different NHS numbers stay apart.
//!
//! Evidence, strongest first, each applied only between compatible clusters:
//! 1. the same NHS number (statuses that give an `nhs` key);
//! 2. the same forename, surname and date of birth (`name_dob`), own name or alias.
//!
//! It runs at the node on its own plaintext and changes only which rows form one subject.

use std::collections::{BTreeSet, HashMap};

use super::source::SourceRow;
use crate::matchkey::{KeyType, derive_keys_of};
use crate::normalise::date::Date;

/// One cluster's identifiers seen so far.
#[derive(Debug, Default, Clone)]
struct Facts {
    nhs: BTreeSet<String>,
    dob: BTreeSet<Date>,
}

impl Facts {
    /// Whether joining two clusters would put two NHS numbers or two dates of birth in one.
    fn compatible(&self, other: &Facts) -> bool {
        self.nhs.union(&other.nhs).nth(1).is_none() && self.dob.union(&other.dob).nth(1).is_none()
    }
}

/// Rewrites each row's `subject` so that rows of one cluster share it (the smallest import
/// subject hash among them, so it stays a hash and says nothing of row order).
pub fn cluster_rows(rows: &mut [SourceRow]) {
    let n = rows.len();
    let mut parent: Vec<usize> = (0..n).collect();
    // Each row's NHS and name-and-DOB keys (own name and aliases).
    let evidence: Vec<Vec<(KeyType, String)>> = rows
        .iter()
        .map(|row| {
            derive_keys_of(&row.ids, &[KeyType::Nhs, KeyType::NameDob])
                .into_iter()
                .map(|k| (k.key_type(), k.value().to_string()))
                .collect()
        })
        .collect();
    let mut facts: Vec<Facts> = rows
        .iter()
        .zip(&evidence)
        .map(|(row, keys)| Facts {
            nhs: keys.iter().filter(|(t, _)| *t == KeyType::Nhs).map(|(_, v)| v.clone()).collect(),
            dob: row.ids.dob.into_iter().collect(),
        })
        .collect();
    for key_type in [KeyType::Nhs, KeyType::NameDob] {
        let mut first_holder: HashMap<String, usize> = HashMap::new();
        for (i, keys) in evidence.iter().enumerate() {
            for (_, value) in keys.iter().filter(|(t, _)| *t == key_type) {
                let j = *first_holder.entry(value.clone()).or_insert(i);
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                if a == b {
                    continue;
                }
                let (fa, fb) = (&facts[a], &facts[b]);
                if fa.compatible(fb) {
                    let merged = Facts {
                        nhs: fa.nhs.union(&fb.nhs).cloned().collect(),
                        dob: fa.dob.union(&fb.dob).copied().collect(),
                    };
                    parent[a] = b;
                    facts[b] = merged;
                }
            }
        }
    }
    // Each cluster's id: the smallest import hash among its rows; a cluster split off rows
    // that shared an import hash (a mother's NHS number on her child's record) takes a hash
    // of its smallest record id instead, so two clusters never share an id.
    let mut members: HashMap<usize, (i64, String)> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let r = root(&mut parent, i);
        let (subject, record) = (row.subject, &row.record_id);
        members
            .entry(r)
            .and_modify(|(s, id)| {
                *s = (*s).min(subject);
                if record < id {
                    id.clone_from(record);
                }
            })
            .or_insert((subject, record.clone()));
    }
    let mut order: Vec<(usize, (i64, String))> = members.into_iter().collect();
    order.sort_by(|a, b| a.1.cmp(&b.1));
    let mut used: BTreeSet<i64> = BTreeSet::new();
    let mut id: HashMap<usize, i64> = HashMap::new();
    for (r, (subject, record)) in order {
        let mut chosen = subject;
        let mut salt = 0u64;
        while !used.insert(chosen) {
            chosen = split_id(&record, salt);
            salt += 1;
        }
        id.insert(r, chosen);
    }
    for (i, row) in rows.iter_mut().enumerate() {
        let r = root(&mut parent, i);
        if let Some(&s) = id.get(&r) {
            row.subject = s;
        }
    }
}

/// A subject id for a cluster split from another: FNV-1a of its smallest record id (and a
/// salt on the rare collision), in the non-negative i64 range import hashes use.
fn split_id(record: &str, salt: u64) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in b"split\x1f".iter().chain(record.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h >> 1) as i64
}

fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::row::subject_key;
    use crate::matchkey::Identifiers;
    use crate::normalise::date::parse_date;
    use crate::normalise::name::normalise_name;
    use crate::normalise::nhs::test_range_number;
    use crate::normalise::postcode::parse_postcode;

    fn row(id: &str, fore: &str, sur: &str, dob: &str, nhs: Option<u32>) -> SourceRow {
        let ids = Identifiers {
            nhs_number: nhs.map(|serial| test_range_number(serial).unwrap()),
            forenames: normalise_name(fore).present(),
            surname: normalise_name(sur).present(),
            dob: parse_date(dob).ok().and_then(|d| d.known()),
            postcode: parse_postcode("CH1 2AB").ok().and_then(|p| p.valid()),
            ..Identifiers::default()
        };
        SourceRow {
            subject: subject_key(&ids, id),
            record_id: id.into(),
            ids,
            event_date: None,
            label_value: None,
        }
    }

    fn same(rows: &[SourceRow], a: usize, b: usize) -> bool {
        rows[a].subject == rows[b].subject
    }

    #[test]
    fn one_person_with_and_without_an_nhs_number_is_one_subject() {
        let mut rows = vec![
            row("1", "Kelly", "Hadworth", "1993-08-18", Some(11)),
            row("2", "Kelly", "Hadworth", "1993-08-18", None),
            row("3", "Kelly", "Hadworth", "1993-08-18", Some(11)),
        ];
        assert!(!same(&rows, 0, 1), "the import's hash splits them");
        cluster_rows(&mut rows);
        assert!(same(&rows, 0, 1) && same(&rows, 1, 2));
    }

    #[test]
    fn decoys_stay_apart() {
        let mut rows = vec![
            // Twins: same surname, DOB and address, different forenames.
            row("t1", "Jack", "Whitworth", "2004-03-09", None),
            row("t2", "Jake", "Whitworth", "2004-03-09", None),
            // Father and son: same name and address, different DOB.
            row("f", "John", "Taylor", "1968-02-10", None),
            row("s", "John", "Taylor", "1994-07-23", None),
            // A mother's NHS number on her child's record: same number, different DOB.
            row("m", "Sarah", "Lee", "1980-01-05", Some(21)),
            row("c", "Ruby", "Lee", "2015-06-01", Some(21)),
            row("c2", "Ruby", "Lee", "2015-06-01", Some(22)),
            // Two namesakes born the same day, each with their own NHS number.
            row("n1", "David", "Jones", "1990-01-01", Some(31)),
            row("n2", "David", "Jones", "1990-01-01", Some(32)),
        ];
        assert!(same(&rows, 4, 5), "the import's hash joins the mother and child");
        cluster_rows(&mut rows);
        for (a, b) in [(0, 1), (2, 3), (4, 5), (4, 6), (7, 8)] {
            assert!(
                !same(&rows, a, b),
                "{} and {} must stay apart",
                rows[a].record_id,
                rows[b].record_id
            );
        }
        // No chaining: the child's record with her mother's number joins neither her mother
        // (another DOB) nor her own record (another NHS number); every subject is distinct.
        let ids: BTreeSet<i64> = rows.iter().map(|r| r.subject).collect();
        assert_eq!(ids.len(), rows.len(), "{ids:?}");
    }
}
