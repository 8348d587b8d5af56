//! Per-subject tuples of fixed length, K key types × W slots (design-review §8 steps 3–4, F4,
//! F5, F11). A tuple carries no handle back to its subject: its length is the layout's, its
//! slots within each key type are in random order, a value shared with another subject of the
//! same side is dropped (unique-or-random), and a dummy is built exactly like a real tuple with
//! every slot missing.
//!
//! A slot is `Option<M>`: `None` is missing, and the blinding layer turns each `None` into a
//! fresh uniform point, so after blinding a missing slot, a dropped shared value and a dummy's
//! slot all look like any real value. `M` is [`SlotMessage`] before blinding and the blinded
//! bytes after, via [`Tuple::try_map_slots`]; the matcher works on either.
//!
//! Tuples come out in subject order so the sender can keep its local mapping; the wire order
//! is decided after blinding, by sorting on the blinded bytes (F11), which no RNG here can
//! leak.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use super::LinkageError;
use super::keys::SlotMessage;
use super::label::{Label, LabelPolicy};
use super::shuffle::shuffle;
use crate::matchkey::KeyType;
use crate::privacy::RandomBits;

/// The most slots per key type a layout may have: a partner's 36 months of coverage with a
/// few key values each, or a two-year day window, with room to spare.
pub const MAX_SLOTS_PER_KEY_TYPE: usize = 4096;

/// The shape every tuple of one side shares: its key types, strongest first, and the number of
/// slots of each. The cohort side usually has W × (values per key type) slots per key type, the
/// partner side T × (values per key type) for T units of data coverage. Without a window the
/// number can differ by key type (an NHS number is one value per person; name keys need room
/// for aliases), but it is always fixed by the query, never by the data: how many slots a
/// subject fills must not show (F5, F11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TupleLayout {
    /// Key types in [`KeyType`]'s order (strongest first), each once.
    key_types: Vec<KeyType>,
    /// Slots of each key type, in the order of `key_types`.
    slots: Vec<usize>,
    /// Where each key type's group starts in a tuple: `starts[i]` = Σ slots[..i].
    starts: Vec<usize>,
    /// Slots per tuple: Σ slots.
    len: usize,
}

impl TupleLayout {
    /// A layout with `slots` slots for every key type; key types are put in strength order, so
    /// both sides of a query that allow the same key types get the same layout order.
    pub fn new(
        key_types: impl IntoIterator<Item = KeyType>,
        slots: usize,
    ) -> Result<TupleLayout, LinkageError> {
        TupleLayout::per_key_type(key_types, |_| slots)
    }

    /// A layout with `slots(kt)` slots for key type `kt`, in strength order.
    pub fn per_key_type(
        key_types: impl IntoIterator<Item = KeyType>,
        slots: impl Fn(KeyType) -> usize,
    ) -> Result<TupleLayout, LinkageError> {
        let mut key_types: Vec<KeyType> = key_types.into_iter().collect();
        key_types.sort();
        if key_types.is_empty() {
            return Err(LinkageError::NoKeyTypes);
        }
        if let Some(pair) = key_types.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(LinkageError::DuplicateKeyType(pair[0]));
        }
        let slots: Vec<usize> = key_types.iter().map(|&kt| slots(kt)).collect();
        if slots.contains(&0) {
            return Err(LinkageError::NoSlots);
        }
        if let Some(&too_many) = slots.iter().find(|&&n| n > MAX_SLOTS_PER_KEY_TYPE) {
            return Err(LinkageError::TooManySlots {
                slots: too_many,
                max: MAX_SLOTS_PER_KEY_TYPE,
            });
        }
        let mut starts = Vec::with_capacity(slots.len());
        let mut len = 0;
        for &n in &slots {
            starts.push(len);
            len += n;
        }
        Ok(TupleLayout { key_types, slots, starts, len })
    }

    /// The key types, strongest first; group `i` of a tuple holds `key_types()[i]`.
    pub fn key_types(&self) -> &[KeyType] {
        &self.key_types
    }

    /// Slots of the `group`-th key type (0 if out of range).
    pub fn group_len(&self, group: usize) -> usize {
        self.slots.get(group).copied().unwrap_or(0)
    }

    /// Where the `group`-th key type's slots lie in a tuple (empty if out of range).
    pub fn group_range(&self, group: usize) -> std::ops::Range<usize> {
        match (self.starts.get(group), self.slots.get(group)) {
            (Some(&start), Some(&n)) => start..start + n,
            _ => 0..0,
        }
    }

    /// Slots per tuple: the sum over key types.
    pub fn tuple_len(&self) -> usize {
        self.len
    }

    /// Splits a tuple's slots (or points) into its key-type groups, mutably, in layout order;
    /// a slice of another length yields fewer or shorter groups.
    pub fn groups_mut<'a, T>(&self, mut slots: &'a mut [T]) -> Vec<&'a mut [T]> {
        let mut groups = Vec::with_capacity(self.slots.len());
        for &n in &self.slots {
            let (group, rest) = slots.split_at_mut(n.min(slots.len()));
            groups.push(group);
            slots = rest;
        }
        groups
    }

    /// Refuses a tuple whose length is not this layout's.
    pub fn check<M>(&self, index: usize, tuple: &Tuple<M>) -> Result<(), LinkageError> {
        if tuple.slots.len() == self.tuple_len() {
            Ok(())
        } else {
            Err(LinkageError::TupleShape {
                index,
                expected: self.tuple_len(),
                found: tuple.slots.len(),
            })
        }
    }
}

/// One subject as the sender sees it before tuples are built: its coarse label and every
/// (key, slot) message of all its records. A cohort subject is usually one cohort row; a
/// partner subject is the sender's own plaintext cluster of records (F4 item 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The subject's label (from the vocabulary).
    pub label: Label,
    /// Its messages, most important first: if a key type has more messages than the layout
    /// has slots, the later ones are dropped.
    pub messages: Vec<SlotMessage>,
}

/// One fixed-length tuple: a label and K × slots slots, grouped by key type in layout order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple<M = SlotMessage> {
    /// The coarse label, in clear.
    label: Label,
    /// The slots; `None` is missing.
    slots: Vec<Option<M>>,
}

impl<M> Tuple<M> {
    /// A tuple from its parts, e.g. as received; check it with [`TupleLayout::check`].
    pub fn new(label: Label, slots: Vec<Option<M>>) -> Tuple<M> {
        Tuple { label, slots }
    }

    /// The label.
    pub fn label(&self) -> &Label {
        &self.label
    }

    /// All slots, key type by key type.
    pub fn slots(&self) -> &[Option<M>] {
        &self.slots
    }

    /// The slots of the `group`-th key type of `layout` (empty if out of range).
    pub fn group(&self, layout: &TupleLayout, group: usize) -> &[Option<M>] {
        self.slots.get(layout.group_range(group)).unwrap_or_default()
    }

    /// The same tuple with every slot transformed, label and positions kept: how the blinding
    /// layer turns messages (and `None`s) into points.
    pub fn try_map_slots<N, E>(
        self,
        f: impl FnMut(Option<M>) -> Result<Option<N>, E>,
    ) -> Result<Tuple<N>, E> {
        let slots = self.slots.into_iter().map(f).collect::<Result<_, E>>()?;
        Ok(Tuple { label: self.label, slots })
    }
}

/// Built tuples and what the build dropped. The report's figures describe the sender's own
/// data; they stay on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltTuples {
    /// One tuple per subject, in subject order.
    pub tuples: Vec<Tuple>,
    /// What was dropped and why.
    pub report: BuildReport,
}

/// Messages dropped while building tuples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildReport {
    /// Distinct messages held by two or more subjects, dropped from all of them.
    pub shared_values_removed: usize,
    /// Messages dropped because their key type already filled its slots.
    pub messages_over_capacity: usize,
    /// Messages of a key type the layout does not hold.
    pub messages_outside_layout: usize,
}

/// Builds one tuple per subject.
///
/// 1. A subject's repeated messages count once.
/// 2. **Unique-or-random** (F5 fix item 3): a key (key type and value, whatever the time slot)
///    held by two or more subjects of this side is dropped from every one of them in every
///    slot — it becomes missing, so a twin, a namesake at one address or a repeated
///    placeholder cannot create many-to-many matches or cross-tuple equalities. Judging by
///    key and not by (key, slot) matters for windows: twins with different index dates would
///    otherwise keep the months only one of them covers, and link there.
/// 3. Each key type's remaining messages fill its slots in order; the rest of the group is
///    missing, and messages beyond the group's size are dropped.
/// 4. Each group is shuffled with a fresh permutation from `rng`, so a slot's position says
///    nothing about its month or key value (F5 handle 3, F9).
///
/// Labels are not checked here: run [`LabelPolicy::check_classes`] on the real subjects first.
pub fn build_tuples(
    subjects: &[Subject],
    layout: &TupleLayout,
    rng: &mut dyn RandomBits,
) -> Result<BuiltTuples, LinkageError> {
    let mut report = BuildReport::default();
    let distinct: Vec<Vec<&SlotMessage>> = subjects
        .iter()
        .map(|subject| {
            let mut seen = HashSet::new();
            subject.messages.iter().filter(|m| seen.insert(*m)).collect()
        })
        .collect();
    // Each subject counts once per key, however many slots it fills with it.
    let mut holders: HashMap<&[u8], usize> = HashMap::new();
    for messages in &distinct {
        let keys: HashSet<&[u8]> = messages.iter().map(|m| m.key_bytes()).collect();
        for key in keys {
            *holders.entry(key).or_default() += 1;
        }
    }
    report.shared_values_removed = holders.values().filter(|&&n| n > 1).count();

    let mut tuples = Vec::with_capacity(subjects.len());
    for (subject, messages) in subjects.iter().zip(&distinct) {
        let mut groups: Vec<Vec<Option<SlotMessage>>> =
            layout.slots.iter().map(|&n| Vec::with_capacity(n)).collect();
        for message in messages {
            if holders.get(message.key_bytes()).is_some_and(|&n| n > 1) {
                continue;
            }
            let Some(group) = layout.key_types.iter().position(|&kt| kt == message.key_type())
            else {
                report.messages_outside_layout += 1;
                continue;
            };
            match groups.get_mut(group) {
                Some(slots) if slots.len() < layout.group_len(group) => {
                    slots.push(Some((*message).clone()));
                }
                _ => report.messages_over_capacity += 1,
            }
        }
        let mut slots = Vec::with_capacity(layout.tuple_len());
        for (mut group, &n) in groups.into_iter().zip(&layout.slots) {
            group.resize(n, None);
            shuffle(&mut group, rng)?;
            slots.append(&mut group);
        }
        tuples.push(Tuple { label: subject.label.clone(), slots });
    }
    Ok(BuiltTuples { tuples, report })
}

/// Dummy tuples for padding label classes (F2 item 3, F11): `count` tuples per label, each of
/// the layout's length with every slot missing — exactly what a real subject with no usable
/// key looks like, so nothing but the blinded points (fresh and uniform for both) could tell
/// them apart. How many per class is the DP layer's decision (a noised count), not this
/// module's. Refuses a label outside the vocabulary.
pub fn dummy_tuples<M: Clone>(
    layout: &TupleLayout,
    per_class: &BTreeMap<Label, usize>,
    policy: &LabelPolicy,
) -> Result<Vec<Tuple<M>>, LinkageError> {
    let mut dummies = Vec::with_capacity(per_class.values().sum());
    for (label, &count) in per_class {
        policy.check_label(label)?;
        dummies
            .extend((0..count).map(|_| Tuple::new(label.clone(), vec![None; layout.tuple_len()])));
    }
    Ok(dummies)
}

/// The receiver's check (F4 item 5, §8 step 3): refuses a set in which any present value
/// occurs twice, in one tuple or across two. After blinding every slot is present, so this
/// also catches a repeated "random" point; an honest sender never produces a repeat.
pub fn check_no_repeated_values<M: Eq + Hash>(tuples: &[Tuple<M>]) -> Result<(), LinkageError> {
    let mut first_seen: HashMap<&M, usize> = HashMap::new();
    for (index, tuple) in tuples.iter().enumerate() {
        for value in tuple.slots.iter().flatten() {
            if let Some(&first) = first_seen.get(value) {
                return Err(LinkageError::RepeatedValue { first, second: index });
            }
            first_seen.insert(value, index);
        }
    }
    Ok(())
}
