//! Why a linkage step refused its input. Messages name key types, labels, templates and tuple
//! positions, never a count of real subjects: a pre-disclosure count must not reach a log
//! (design-review.md F5 item 6), and a label class's size is one.

use fedlink_proto::blind::{BatchError, KeyError, PointError};

use crate::matchkey::KeyType;
use crate::normalise::date::Date;
use crate::privacy::RandomError;

use super::label::Label;
use super::window::Granularity;

/// A linkage input or setting this module refuses to work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkageError {
    /// A key selection or tuple layout names no key type, so nothing could ever match.
    #[error("a linkage needs at least one key type")]
    NoKeyTypes,
    /// A key selection or tuple layout names the same key type twice.
    #[error("key type {0} is listed twice")]
    DuplicateKeyType(KeyType),
    /// A tuple layout with no slots per key type.
    #[error("a tuple layout needs at least one slot per key type")]
    NoSlots,
    /// A tuple layout so large that its tuples would not be sent (a typo in a policy, not a
    /// real window).
    #[error("a tuple layout of {slots} slots per key type is over the limit of {max}")]
    TooManySlots {
        /// Slots per key type asked for.
        slots: usize,
        /// The limit, [`super::tuple::MAX_SLOTS_PER_KEY_TYPE`].
        max: usize,
    },
    /// A window template without a name.
    #[error("a window template needs a name")]
    UnnamedWindow,
    /// A window template that covers no unit at all.
    #[error(
        "window template {name:?} has no slots: it looks back 0 units and excludes the index unit"
    )]
    EmptyWindow {
        /// The template's name.
        name: String,
    },
    /// A window template longer than [`super::window::MAX_WINDOW_SLOTS`].
    #[error("window template {name:?} has {slots} slots; at most {max} are allowed")]
    WindowTooLong {
        /// The template's name.
        name: String,
        /// Its slot count W.
        slots: u64,
        /// The limit.
        max: usize,
    },
    /// A slot label would fall outside the years 1–9999 that [`Date`] covers.
    #[error("the {granularity} slots for {date} reach outside the years 1-9999")]
    DateOutOfRange {
        /// The index or event date.
        date: Date,
        /// The window's granularity.
        granularity: Granularity,
    },
    /// A match key's value or a slot label is too long to length-prefix (never for real keys).
    #[error("a {key_type} key value is too long to encode")]
    KeyTooLong {
        /// The key's type.
        key_type: KeyType,
    },
    /// A label that is empty, too long or has characters outside the label alphabet.
    #[error("{0:?} is not a valid label: 1-64 characters of A-Z a-z 0-9 _ - . : + <")]
    InvalidLabel(String),
    /// A label policy with an empty vocabulary.
    #[error("a label policy needs at least one label in its vocabulary")]
    EmptyVocabulary,
    /// A label policy with k_min = 0, which would allow a class of no real subjects.
    #[error("a label policy's k_min must be at least 1")]
    ZeroKMin,
    /// A label that the policy's vocabulary does not hold (design-review F2 item 4).
    #[error("label {0} is not in the policy's label vocabulary")]
    LabelNotInVocabulary(Label),
    /// A side labelled by a column has a qualifying row with no value there, so its subject
    /// would go without a label.
    #[error("a qualifying row has no value in the side's label column")]
    MissingLabel,
    /// A label class with fewer real subjects than the policy's k_min (F5 fix item 1). The
    /// class's size is deliberately not in the message.
    #[error("label class {label} holds fewer than {k_min} real subjects; coarsen or merge it")]
    LabelClassTooSmall {
        /// The class.
        label: Label,
        /// The policy's minimum.
        k_min: usize,
    },
    /// A tuple whose length does not match its side's layout.
    #[error("tuple {index} has {found} slots; its layout has {expected}")]
    TupleShape {
        /// The tuple's position in its side.
        index: usize,
        /// Slots the layout asks for.
        expected: usize,
        /// Slots the tuple has.
        found: usize,
    },
    /// The cohort and partner layouts do not use the same key types, so their passes differ.
    #[error("the cohort and partner tuples are built on different key types")]
    KeyTypesDiffer,
    /// A value occurs twice in a set about to be sent or just received (F4 item 5, F5 item 3).
    /// An honest sender never produces one, because of unique-or-random.
    #[error("a value occurs in tuple {first} and again in tuple {second}")]
    RepeatedValue {
        /// The first tuple holding it.
        first: usize,
        /// The next tuple holding it (may equal `first` for a repeat inside one tuple).
        second: usize,
    },
    /// A linked pair names a tuple outside its side.
    #[error("a linked pair names {side} tuple {index}, but that side has {len}")]
    PairOutOfRange {
        /// "cohort" or "partner".
        side: &'static str,
        /// The index named.
        index: usize,
        /// The side's length.
        len: usize,
    },
    /// A tuple is credited twice: the one-to-one rule (F4) is broken.
    #[error("{side} tuple {index} is in more than one linked pair")]
    CreditedTwice {
        /// "cohort" or "partner".
        side: &'static str,
        /// The tuple.
        index: usize,
    },
    /// A slot message sits in the group of another key type, so it would be blinded under one
    /// key type's tag and compared under another's.
    #[error("tuple {index} holds a {found} message in its {expected} slots")]
    SlotInWrongGroup {
        /// The tuple's position.
        index: usize,
        /// The key type of the group.
        expected: KeyType,
        /// The message's key type.
        found: KeyType,
    },
    /// A received message whose tuples are not in byte order (their order could then carry
    /// information back to the sender's records).
    #[error("tuple {index} is out of byte order; tuples travel sorted")]
    NotSorted {
        /// The first tuple out of order.
        index: usize,
    },
    /// More tuples than the receiver accepts (a size cap, checked before anything else).
    #[error("{count} tuples; at most {max} are accepted")]
    TooManyTuples {
        /// Tuples received.
        count: usize,
        /// The cap.
        max: usize,
    },
    /// A received point that does not decode or is the identity.
    #[error("tuple {tuple}, slot {slot}: {source}")]
    BadPoint {
        /// The tuple's position.
        tuple: usize,
        /// The slot's position in the tuple.
        slot: usize,
        /// What is wrong with the point.
        source: PointError,
    },
    /// A packed batch of points refused for its shape (length, count).
    #[error("packed points refused: {0}")]
    Batch(BatchError),
    /// A relayed payload is not what the protocol says (wrong message, bad descriptor,
    /// wrong number of flags …).
    #[error("{0}")]
    Wire(String),
    /// A label index on the wire outside the shared vocabulary.
    #[error("label index {index} is outside the vocabulary of {len} labels")]
    LabelIndexOutOfRange {
        /// The index received.
        index: u16,
        /// The vocabulary's size.
        len: usize,
    },
    /// A vocabulary too large to index with 16 bits on the wire.
    #[error("a vocabulary of {len} labels is too large to send; at most 65536 are allowed")]
    VocabularyTooLarge {
        /// The vocabulary's size.
        len: usize,
    },
    /// No random point could be drawn for a missing slot.
    #[error("no random point for a missing slot: {0}")]
    RandomPoint(#[from] KeyError),
    /// The OS random number generator failed; no slot permutation was drawn.
    #[error(transparent)]
    Random(#[from] RandomError),
}
