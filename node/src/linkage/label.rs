//! Coarse tuple labels and the policy that admits them (design-review F2, F5 fix item 1).
//!
//! A label travels in clear beside its tuple, so it is a disclosure: it must come from a small
//! vocabulary both policies allow, and every label class must hold at least k real subjects,
//! so that a match is attributable only to "one of ≥ k of my records". Labels are per subject
//! (never per event, F9) and g and h never carry the same attribute (F5 item 2) — the policy
//! that writes the vocabulary owns those two rules; this module enforces membership and k.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::LinkageError;

/// The longest label, in bytes.
const MAX_LABEL_LEN: usize = 64;

/// A coarse label such as `F_18-24` or `homicide_victim`: 1–64 characters of A–Z, a–z, 0–9
/// and `_ - . : + <`. The alphabet keeps labels printable and free of separators, so a label
/// can be logged and written into a table cell as it is. Shared, not copied: a million tuples
/// of one class hold one allocation of its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(Arc<str>);

impl Label {
    /// A label, or why the text cannot be one.
    pub fn new(text: impl Into<String>) -> Result<Label, LinkageError> {
        let text = text.into();
        let allowed = |b: u8| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'+' | b'<')
        };
        if text.is_empty() || text.len() > MAX_LABEL_LEN || !text.bytes().all(allowed) {
            return Err(LinkageError::InvalidLabel(text));
        }
        Ok(Label(Arc::from(text)))
    }

    /// The label's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Label {
    type Error = LinkageError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Label::new(text)
    }
}

impl From<Label> for String {
    fn from(label: Label) -> Self {
        label.0.to_string()
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which labels a side may send and how many real subjects each class needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelPolicy {
    /// The closed vocabulary (F2 item 2).
    vocabulary: BTreeSet<Label>,
    /// The fewest real subjects a class that is sent may hold (k_h; policy default 20).
    k_min: usize,
}

impl LabelPolicy {
    /// A policy, or why not: the vocabulary must be non-empty and `k_min` at least 1.
    pub fn new(
        vocabulary: impl IntoIterator<Item = Label>,
        k_min: usize,
    ) -> Result<LabelPolicy, LinkageError> {
        let vocabulary: BTreeSet<Label> = vocabulary.into_iter().collect();
        if vocabulary.is_empty() {
            return Err(LinkageError::EmptyVocabulary);
        }
        if k_min == 0 {
            return Err(LinkageError::ZeroKMin);
        }
        Ok(LabelPolicy { vocabulary, k_min })
    }

    /// The vocabulary.
    pub fn vocabulary(&self) -> &BTreeSet<Label> {
        &self.vocabulary
    }

    /// The fewest real subjects a class may hold.
    pub fn k_min(&self) -> usize {
        self.k_min
    }

    /// Refuses a label outside the vocabulary.
    pub fn check_label(&self, label: &Label) -> Result<(), LinkageError> {
        if self.vocabulary.contains(label) {
            Ok(())
        } else {
            Err(LinkageError::LabelNotInVocabulary(label.clone()))
        }
    }

    /// Checks the labels of the *real* subjects about to be sent (before any dummy is added)
    /// and returns the size of each class present, for the padding plan. Refuses the first
    /// label, in label order, that is outside the vocabulary or whose class holds fewer than
    /// `k_min` real subjects. A vocabulary label with no real subject is not a class of this
    /// set; padding it with dummies alone reveals nothing about anyone.
    ///
    /// The returned sizes are pre-disclosure counts: they stay on the node (F5 item 6).
    pub fn check_classes<'a>(
        &self,
        real_labels: impl IntoIterator<Item = &'a Label>,
    ) -> Result<BTreeMap<Label, usize>, LinkageError> {
        let mut classes: BTreeMap<Label, usize> = BTreeMap::new();
        for label in real_labels {
            *classes.entry(label.clone()).or_default() += 1;
        }
        for (label, &size) in &classes {
            self.check_label(label)?;
            if size < self.k_min {
                return Err(LinkageError::LabelClassTooSmall {
                    label: label.clone(),
                    k_min: self.k_min,
                });
            }
        }
        Ok(classes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> Label {
        Label::new(text).unwrap()
    }

    #[test]
    fn the_label_alphabet() {
        for ok in ["F_18-24", "65+", "<18", "role:victim", "E06000049.q1"] {
            assert_eq!(label(ok).as_str(), ok);
        }
        for bad in ["", "a b", "x|y", "naïve", "a,b", &"x".repeat(65)] {
            assert_eq!(Label::new(bad), Err(LinkageError::InvalidLabel(bad.to_owned())));
        }
    }

    #[test]
    fn policies_are_checked() {
        assert_eq!(LabelPolicy::new([], 5), Err(LinkageError::EmptyVocabulary));
        assert_eq!(LabelPolicy::new([label("a")], 0), Err(LinkageError::ZeroKMin));
    }

    #[test]
    fn error_messages_never_carry_a_class_size() {
        let policy = LabelPolicy::new([label("a")], 20).unwrap();
        let labels = vec![label("a"); 13];
        let err = policy.check_classes(&labels).unwrap_err();
        assert_eq!(err, LinkageError::LabelClassTooSmall { label: label("a"), k_min: 20 });
        assert!(!err.to_string().contains("13"), "{err}");
    }
}
