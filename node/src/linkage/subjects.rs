//! From a side's rows ([`SourceRow`]) to the [`Subject`]s that [`super::build_tuples`] takes:
//! which rows make one subject, which (key, slot) messages it sends, in what order, and its
//! label.
//!
//! - A cohort subject (counts, overlaps) is every qualifying row of one person: each row's keys
//!   in each slot of that row's window, the windows unioned (design-review F9), so "an event
//!   within N months before *any* of the subject's index dates" is one match.
//! - A partner subject is every qualifying row of one person: each row's keys in the one slot
//!   of that row's event.
//! - A flag-back cohort sends one subject per *row*, since the flags come back per row.
//!
//! "One person" is the import's `subject` hash (`dataset::row::subject_key`): the node's own
//! plaintext cluster (F4 item 1). A subject's label is its earliest row's, so a subject never
//! carries two labels (labels are per subject, never per event, F9).
//!
//! Messages go strongest key type first, as [`KeySelection`] orders key types, and within a key
//! type in row order: [`super::build_tuples`] drops the last messages of a key type whose slots
//! are full. A repeated message (two rows sharing a key and a slot) is sent once.

use std::collections::HashSet;
use std::fmt;

use super::LinkageError;
use super::keys::{KeySelection, SlotMessage, slot_messages};
use super::label::{Label, LabelPolicy};
use super::source::SourceRow;
use super::tuple::Subject;
use super::window::{SlotLabel, WindowTemplate};

/// The one label of a side that is not labelled by a column.
pub const ALL_LABEL: &str = "all";

/// How a side's subjects are labelled: the label column's value (which must be in the
/// vocabulary) or the single label "all".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labelling {
    /// Every subject is labelled [`ALL_LABEL`].
    All,
    /// Each subject is labelled by its earliest row's `label_value`.
    Column,
}

/// A side's subjects, with what was left out.
///
/// `Debug` omits the counts: they are pre-disclosure counts (F5 item 6).
pub struct Subjects {
    /// One per distinct subject hash, in hash order.
    pub subjects: Vec<Subject>,
    /// Rows left out because a window needs an event date and they had none.
    pub skipped_undated: usize,
    /// Rows that went into a subject.
    pub rows: usize,
}

impl fmt::Debug for Subjects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subjects").finish_non_exhaustive()
    }
}

/// A flag-back cohort: one subject per row, with the row's record id beside it.
///
/// `Debug` shows neither record ids nor counts.
pub struct RowSubjects {
    /// One per row used, in the rows' order.
    pub subjects: Vec<Subject>,
    /// `record_ids[i]` is the row of `subjects[i]`: flags come back in this order.
    pub record_ids: Vec<String>,
    /// Rows left out because a window needs an event date and they had none.
    pub skipped_undated: usize,
}

impl fmt::Debug for RowSubjects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowSubjects").finish_non_exhaustive()
    }
}

/// Which side a row is read for: it decides the row's slots.
#[derive(Clone, Copy)]
enum Role {
    /// The W slots of the window before the row's index date.
    Cohort,
    /// The one slot of the row's event.
    Partner,
}

/// Cohort side (A) for counts and overlaps: one Subject per distinct `subject` hash; its
/// messages are every key of every one of its rows × the window slots of that row's event date
/// (the index date), unioned and deduplicated (design-review F9: windows unioned); the label is
/// that of its earliest row. A row with no event date when a window is given is skipped and
/// counted.
pub fn cohort_subjects(
    rows: &[SourceRow],
    selection: &KeySelection,
    window: Option<&WindowTemplate>,
    labelling: Labelling,
    policy: &LabelPolicy,
) -> Result<Subjects, LinkageError> {
    grouped(rows, selection, window, labelling, policy, Role::Cohort)
}

/// Partner side (B): one Subject per distinct `subject` hash, messages = every key of every row
/// × that row's partner slot (untimed when no window); label of earliest row. A row with no
/// event date when a window is given has no slot: it is skipped and counted.
pub fn partner_subjects(
    rows: &[SourceRow],
    selection: &KeySelection,
    window: Option<&WindowTemplate>,
    labelling: Labelling,
    policy: &LabelPolicy,
) -> Result<Subjects, LinkageError> {
    grouped(rows, selection, window, labelling, policy, Role::Partner)
}

/// Flag-back cohort: one Subject per ROW, in the rows' order, with the row's record id kept
/// alongside (flags come back in this order). Every subject is labelled [`ALL_LABEL`]: a flag
/// is per row, and a label would only tell the partner more. A row with no event date when a
/// window is given is skipped and counted, and has no record id in the result.
pub fn row_subjects(
    rows: &[SourceRow],
    selection: &KeySelection,
    window: Option<&WindowTemplate>,
    policy: &LabelPolicy,
) -> Result<RowSubjects, LinkageError> {
    let all = all_label(policy)?;
    let mut out = RowSubjects { subjects: Vec::new(), record_ids: Vec::new(), skipped_undated: 0 };
    for row in rows {
        let Some(slots) = row_slots(row, window, Role::Cohort)? else {
            out.skipped_undated += 1;
            continue;
        };
        let mut messages = Messages::default();
        messages.add(selection, row, &slots)?;
        out.subjects.push(Subject { label: all.clone(), messages: messages.finish() });
        out.record_ids.push(row.record_id.clone());
    }
    Ok(out)
}

/// One subject per distinct subject hash, for either side.
fn grouped(
    rows: &[SourceRow],
    selection: &KeySelection,
    window: Option<&WindowTemplate>,
    labelling: Labelling,
    policy: &LabelPolicy,
    role: Role,
) -> Result<Subjects, LinkageError> {
    let all = match labelling {
        Labelling::All => Some(all_label(policy)?),
        Labelling::Column => None,
    };
    // Each subject's rows together, earliest first, whatever order the caller passes: the
    // label and the message order must not depend on it. `read_rows` already returns this
    // order; the sort is then a linear check.
    let mut order: Vec<&SourceRow> = rows.iter().collect();
    order.sort_by(|a, b| {
        (a.subject, a.event_date.is_none(), a.event_date, &a.record_id).cmp(&(
            b.subject,
            b.event_date.is_none(),
            b.event_date,
            &b.record_id,
        ))
    });
    let mut out = Subjects { subjects: Vec::new(), skipped_undated: 0, rows: 0 };
    // The subject being gathered: its hash, label and messages so far.
    let mut current: Option<(i64, Label, Messages)> = None;
    for row in order {
        let Some(slots) = row_slots(row, window, role)? else {
            out.skipped_undated += 1;
            continue;
        };
        out.rows += 1;
        let same = current.as_ref().is_some_and(|(subject, _, _)| *subject == row.subject);
        if !same {
            if let Some((_, label, messages)) = current.take() {
                out.subjects.push(Subject { label, messages: messages.finish() });
            }
            // The first row used is the subject's earliest: its label is the subject's.
            let label = match &all {
                Some(all) => all.clone(),
                None => column_label(row, policy)?,
            };
            current = Some((row.subject, label, Messages::default()));
        }
        if let Some((_, _, messages)) = current.as_mut() {
            messages.add(selection, row, &slots)?;
        }
    }
    if let Some((_, label, messages)) = current {
        out.subjects.push(Subject { label, messages: messages.finish() });
    }
    Ok(out)
}

/// The row's slots for its role, or `None` when a window needs an event date it lacks.
fn row_slots(
    row: &SourceRow,
    window: Option<&WindowTemplate>,
    role: Role,
) -> Result<Option<Vec<SlotLabel>>, LinkageError> {
    let Some(window) = window else {
        return Ok(Some(vec![SlotLabel::UNTIMED]));
    };
    let Some(date) = row.event_date else {
        return Ok(None);
    };
    Ok(Some(match role {
        Role::Cohort => window.cohort_slots(date)?,
        Role::Partner => vec![window.partner_slot(date)?],
    }))
}

/// The label "all", refused unless the policy's vocabulary holds it.
fn all_label(policy: &LabelPolicy) -> Result<Label, LinkageError> {
    let label = Label::new(ALL_LABEL)?;
    policy.check_label(&label)?;
    Ok(label)
}

/// The row's label column value as a label of the vocabulary.
fn column_label(row: &SourceRow, policy: &LabelPolicy) -> Result<Label, LinkageError> {
    let value = row.label_value.as_deref().ok_or(LinkageError::MissingLabel)?;
    let label = Label::new(value)?;
    policy.check_label(&label)?;
    Ok(label)
}

/// A subject's messages being gathered: first occurrence kept, each message once.
#[derive(Default)]
struct Messages {
    /// In the order first added.
    list: Vec<SlotMessage>,
    /// What `list` holds.
    seen: HashSet<SlotMessage>,
}

impl Messages {
    /// Adds each of the row's keys in each of `slots` not already present.
    fn add(
        &mut self,
        selection: &KeySelection,
        row: &SourceRow,
        slots: &[SlotLabel],
    ) -> Result<(), LinkageError> {
        for message in slot_messages(&selection.record_keys(&row.ids), slots)? {
            if !self.seen.contains(&message) {
                self.seen.insert(message.clone());
                self.list.push(message);
            }
        }
        Ok(())
    }

    /// The messages, strongest key type first; within a key type in the order added (a
    /// stable sort), so earlier rows' and own-name keys keep their places when slots run out.
    fn finish(mut self) -> Vec<SlotMessage> {
        self.list.sort_by_key(SlotMessage::key_type);
        self.list
    }
}

#[cfg(test)]
mod tests;
