//! Witnesses' cosignatures of this log's checkpoints, kept beside the log in its `cosignature`
//! table, and what a witness needs to be asked for one: the latest checkpoint and a consistency
//! proof from the size it last cosigned. Cosignatures are not entries: they sit outside the
//! tree, and an auditor checks each against the checkpoint it signs.

use rusqlite::params;

use super::{AuditLog, StoreError, StoredTree, from_sql, latest_checkpoint_on, to_sql};
use crate::audit::merkle::Hash;
use crate::audit::proof::consistency_proof;

/// One stored cosignature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCosignature {
    /// The size of the checkpoint it cosigns.
    pub size: u64,
    /// The cosigner's name (the line's key name).
    pub witness: String,
    /// The signature line, without a trailing newline.
    pub line: String,
    /// When it was stored, milliseconds since the epoch.
    pub received_ms: i64,
}

/// What to send a witness: the latest signed checkpoint and the proof that it extends the tree
/// of `old_size` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessSubmission {
    /// The size the proof starts from.
    pub old_size: u64,
    /// The latest checkpoint's size.
    pub size: u64,
    /// Its signed note.
    pub note: String,
    /// RFC 9162 consistency proof from `old_size` to `size` (empty from 0 or at equal sizes).
    pub proof: Vec<Hash>,
}

impl AuditLog {
    /// Stores a cosignature of this log's checkpoint at `size`. The caller has verified it
    /// against that checkpoint (`cosignature::CosignatureVerifier::verify`). A second
    /// cosignature by the same witness of the same size is ignored: returns whether this one
    /// was new.
    pub fn add_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
        received_ms: i64,
    ) -> Result<bool, StoreError> {
        let added = self
            .conn
            .prepare_cached(
                // ON CONFLICT, not OR IGNORE: OR IGNORE would also swallow the CHECK on size.
                "INSERT INTO cosignature (size, witness, line, received_ms)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (size, witness) DO NOTHING",
            )?
            .execute(params![to_sql(size)?, witness, line, received_ms])?;
        Ok(added == 1)
    }

    /// Every stored cosignature, by size then witness.
    pub fn cosignatures(&self) -> Result<Vec<StoredCosignature>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT size, witness, line, received_ms FROM cosignature ORDER BY size, witness",
        )?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.map(|row| {
            let (size, witness, line, received_ms) = row?;
            Ok(StoredCosignature { size: from_sql(size)?, witness, line, received_ms })
        })
        .collect()
    }

    /// The largest size `witness` has cosigned, if any: where the next request to it starts.
    pub fn last_cosigned_size(&self, witness: &str) -> Result<Option<u64>, StoreError> {
        let size: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(size) FROM cosignature WHERE witness = ?1")?
            .query_row([witness], |r| r.get(0))?;
        size.map(from_sql).transpose()
    }

    /// The latest checkpoint with a consistency proof from `old_size`, read in one
    /// transaction. `None` while the log is empty; [`StoreError::KnownSizeAhead`] when the
    /// witness claims more of the log than there is (it was shown another log, or this one
    /// was rolled back).
    pub fn witness_submission(
        &self,
        old_size: u64,
    ) -> Result<Option<WitnessSubmission>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let Some((size, _, note)) = latest_checkpoint_on(&tx)? else {
            return Ok(None);
        };
        if old_size > size {
            return Err(StoreError::KnownSizeAhead { known: old_size, size });
        }
        let proof = consistency_proof(&StoredTree { conn: &tx, size }, old_size, size)?;
        Ok(Some(WitnessSubmission { old_size, size, note, proof }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::audit::checkpoint::{NoteVerifier, open_checkpoint};
    use crate::audit::proof::verify_consistency;
    use crate::clock::{MockClock, UnixMillis};
    use crate::identity::IdentityKey;
    use crate::pb;

    use super::*;

    fn log_in(dir: &std::path::Path) -> AuditLog {
        let key = IdentityKey::generate().expect("key");
        let clock = Arc::new(MockClock::new(UnixMillis(1_000)));
        AuditLog::open(&dir.join("audit.db"), "fedlink.audit/unit", key, clock).expect("open")
    }

    #[test]
    fn cosignatures_are_kept_once_per_size_and_witness() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_in(dir.path());
        assert_eq!(log.last_cosigned_size("w1").expect("read"), None);
        assert!(log.add_cosignature(3, "w1", "line a", 10).expect("add"));
        assert!(!log.add_cosignature(3, "w1", "line b", 11).expect("add again"));
        assert!(log.add_cosignature(5, "w1", "line c", 12).expect("add"));
        assert!(log.add_cosignature(3, "w2", "line d", 13).expect("add"));
        assert_eq!(log.last_cosigned_size("w1").expect("read"), Some(5));
        let all = log.cosignatures().expect("list");
        let summary: Vec<(u64, &str, &str)> =
            all.iter().map(|c| (c.size, c.witness.as_str(), c.line.as_str())).collect();
        assert_eq!(summary, [(3, "w1", "line a"), (3, "w2", "line d"), (5, "w1", "line c")]);
        assert!(log.add_cosignature(0, "w1", "size zero", 14).is_err(), "size 0 has no checkpoint");
    }

    #[test]
    fn submissions_prove_the_latest_checkpoint_from_any_earlier_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = log_in(dir.path());
        assert_eq!(log.witness_submission(0).expect("empty"), None);
        let mut roots = vec![crate::audit::merkle::empty_root()];
        for _ in 0..7 {
            roots.push(log.append(pb::AuditEntry::default(), None).expect("append").root);
        }
        let verifier = NoteVerifier::new(log.origin(), log.public_key());
        for old in 0..=7u64 {
            let s = log.witness_submission(old).expect("submission").expect("non-empty");
            let cp = open_checkpoint(&s.note, &verifier).expect("signed");
            assert_eq!((s.old_size, s.size, cp.size), (old, 7, 7));
            verify_consistency(old, 7, &roots[old as usize], &cp.root, &s.proof)
                .unwrap_or_else(|e| panic!("from {old}: {e}"));
        }
        assert!(matches!(
            log.witness_submission(8),
            Err(StoreError::KnownSizeAhead { known: 8, size: 7 })
        ));
    }
}
