use super::*;

#[test]
fn too_many_or_no_key_types_and_stray_bits_are_refused() {
    assert_eq!(PatternCounts::new(33), Err(ScoringError::TooManyKeyTypes(33)));
    assert_eq!(PatternCounts::new(0), Err(ScoringError::NoKeyTypes));
    assert!(PatternCounts::new(32).is_ok());
    assert_eq!(Pattern::from_agreements(&[true; 33]), Err(ScoringError::TooManyKeyTypes(33)));
    assert_eq!(Pattern::from_agreements(&[true, false, true]), Ok(Pattern(0b101)));
    let mut counts = PatternCounts::new(2).unwrap();
    assert_eq!(
        counts.add(Pattern(0b100), 1),
        Err(ScoringError::PatternOutOfRange { pattern: 0b100, k: 2 })
    );
    let mut wide = PatternCounts::new(32).unwrap();
    assert!(wide.add(Pattern(u32::MAX), 1).is_ok());
}
