//! Numbers as a reader sees them: thousands separated by commas, integers without a decimal
//! point, fractions to two significant figures. Pure functions of the value, so the same figure
//! prints the same everywhere on the page and in every run.

/// A count with thousands separators: `1234567` → `1,234,567`.
pub fn format_count(count: u64) -> String {
    group_thousands(&count.to_string())
}

/// A value with exactly `decimals` digits after the point and thousands separators:
/// `(1234.5, 2)` → `1,234.50`. Non-finite values print as `n/a`.
pub fn format_fixed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text.as_str(), None),
    };
    let mut out = String::new();
    // "-0.00" would read as a negative zero; only a value that shows a non-zero digit is negative.
    if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    out.push_str(&group_thousands(whole));
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A value as short as it can be read: integers as integers (`12`, `1,204`), other values to two
/// significant figures below 1 (`0.05`, `0.13`) and two decimals above (`12.25`), trailing
/// zeros dropped. Non-finite values print as `n/a`.
pub fn format_value(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format_fixed(value, 0);
    }
    trim_zeros(format_fixed(value, decimals_for(value.abs(), 2)))
}

/// How many decimals show `magnitude` (> 0) to `significant` figures, at least `significant`
/// and at most 6.
pub(super) fn decimals_for(magnitude: f64, significant: i32) -> usize {
    if magnitude >= 1.0 || magnitude <= 0.0 {
        return significant.max(0) as usize;
    }
    // Zeros between the point and the first significant digit, counted by scaling rather than
    // with log10, which lands a hair off for exact powers of ten (0.1, 0.01).
    let mut leading_zeros = 0;
    let mut scaled = magnitude;
    while scaled < 0.1 * (1.0 - 1e-9) && leading_zeros < 6 {
        scaled *= 10.0;
        leading_zeros += 1;
    }
    (leading_zeros + significant).clamp(0, 6) as usize
}

/// Drops trailing zeros after a decimal point, and the point if nothing follows it.
pub(super) fn trim_zeros(text: String) -> String {
    if !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn group_thousands(digits: &str) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_in_thousands() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(1_234_567), "1,234,567");
    }

    #[test]
    fn fixed_keeps_its_decimals_and_sign() {
        assert_eq!(format_fixed(1234.5, 2), "1,234.50");
        assert_eq!(format_fixed(-1234.5, 1), "-1,234.5");
        assert_eq!(format_fixed(-0.001, 2), "0.00");
        assert_eq!(format_fixed(f64::NAN, 2), "n/a");
    }

    #[test]
    fn values_are_as_short_as_readable() {
        assert_eq!(format_value(12.0), "12");
        assert_eq!(format_value(1204.0), "1,204");
        assert_eq!(format_value(0.05), "0.05");
        assert_eq!(format_value(0.126), "0.13");
        assert_eq!(format_value(12.25), "12.25");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(-3.0), "-3");
        assert_eq!(format_value(0.1 + 0.2), "0.3");
        assert_eq!(format_value(0.01), "0.01");
    }
}
