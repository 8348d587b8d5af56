//! The plaintext side of the linked-count protocol (DESIGN.md "Linkage"; design-review §8):
//! everything a node does *before* blinding — which bytes get blinded, how time windows become
//! slots, how a subject becomes a fixed-length tuple — and *after* matching — crediting and
//! counting by label. Blinding itself (hash-to-ristretto255, scalars) lives in
//! `fedlink_proto::blind`, and only [`blinded`] calls it: tuples are generic over the slot
//! value, so the same code runs on plaintext messages in tests and on blinded points in the
//! protocol.
//!
//! # Layout
//!
//! - [`keys`]: a record's allowed match keys (placeholders never become keys, F17) and the
//!   domain-separated, length-prefixed [`SlotMessage`] = key type ‖ key value ‖ slot label.
//! - [`window`]: time buckets (F9): [`Granularity`], [`WindowTemplate`], the W slot labels of a
//!   cohort row and the one slot label of a partner row, and exactly what a window matches.
//! - [`label`]: coarse labels and the [`LabelPolicy`] (vocabulary, k real subjects per class).
//! - [`tuple`](mod@tuple): [`TupleLayout`], [`build_tuples`] (unique-or-random, slot permutation, fixed
//!   length), [`dummy_tuples`], and the receiver's no-repeat check.
//! - [`matcher`]: the [`Matcher`] seam, the ordered unique-key passes of issue 5
//!   ([`UniqueKeyPasses`]), one-to-one [`Linkage`], and [`count_by_labels`].
//! - [`scoring`]: blinded agreement patterns and their histogram (issue 6); [`scoring::levels`]
//!   reads a pattern as one agreement level per key family and fits the Fellegi–Sunter model
//!   (within-file u, EM for m with u fixed).
//! - [`source`]: a side's qualifying rows read from its dataset ([`read_rows`]): filters
//!   compiled as aggregates compile them, identifiers rebuilt through the normalisers.
//! - [`subjects`]: rows into [`Subject`]s: cohort subjects with their windows unioned, partner
//!   subjects, one subject per row for flag-back, and their labels.
//! - [`cluster`]: a side's rows into subjects without chaining: NHS number first, then exact
//!   name and date of birth, never two NHS numbers or two dates of birth in one subject.
//! - [`calibration`]: the calibrated model of F18 — within-file u, a fit on a calibration run,
//!   stored versioned, and the [`calibration::CalibratedMatcher`] later queries read it through.
//! - [`blinded`]: [`BlindedTuple`], [`blind_tuples`], [`reblind_tuples`], the receiver's
//!   [`check_received`] and [`same_label_multiset`] (the wire form is `link::wire`).
//! - [`error`]: [`LinkageError`], why a step refused its input.
//!
//! # One side's steps
//!
//! 1. [`read_rows`] reads the side's qualifying rows. For each row,
//!    [`KeySelection::record_keys`] gives its keys; [`slot_messages`] joins them with the
//!    window's slots (cohort) or the event's slot (partner) into messages, which
//!    [`cohort_subjects`], [`partner_subjects`] or [`row_subjects`] gather per subject (or per
//!    row, for flag-back) into a [`Subject`] with its label.
//! 2. [`LabelPolicy::check_classes`] refuses a label outside the vocabulary or a class with
//!    fewer than k real subjects.
//! 3. [`build_tuples`] makes one tuple per subject; [`dummy_tuples`] pads each class.
//! 4. [`blind_tuples`] blinds each slot (`None` → a fresh random point) and sorts by bytes.
//!
//! The computing node then runs a [`Matcher`] over both doubly-blinded sides and
//! [`count_by_labels`] over its [`Linkage`], before noise and disclosure control.

pub mod blinded;
mod calendar;
pub mod calibration;
pub mod cluster;
pub mod error;
pub mod keys;
pub mod label;
pub mod matcher;
pub mod scoring;
mod shuffle;
pub mod source;
pub mod subjects;
pub mod tuple;
pub mod window;

pub use blinded::{
    BlindedTuple, blind_tuples, blind_tuples_in_order, by_bytes, check_received, check_sorted,
    permute_slots_and_sort, reblind_tuples, same_label_multiset,
};
pub use error::LinkageError;
pub use keys::{KeySelection, SLOT_MESSAGE_DOMAIN, SlotMessage, slot_messages};
pub use label::{Label, LabelPolicy};
pub use matcher::{Linkage, LinkedPair, Matcher, Side, UniqueKeyPasses, count_by_labels};
pub use source::{SourceError, SourceRow, read_rows};
pub use subjects::{
    ALL_LABEL, Labelling, RowSubjects, Subjects, cohort_subjects, partner_subjects, row_subjects,
};
pub use tuple::{
    BuildReport, BuiltTuples, MAX_SLOTS_PER_KEY_TYPE, Subject, Tuple, TupleLayout, build_tuples,
    check_no_repeated_values, dummy_tuples,
};
pub use window::{Granularity, MAX_WINDOW_SLOTS, SlotLabel, UnitRange, WindowTemplate};
