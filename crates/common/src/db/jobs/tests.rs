//! Unit tests of the queue's pure parts (the SQL is tested against MariaDB in tests/it).

use std::time::Duration;

use super::outcome::truncate_error;
use super::{MAX_ERROR_LEN, backoff_delay};

#[test]
fn backoff_doubles_up_to_the_cap_and_jitters_within_the_upper_half() {
    let base = Duration::from_secs(2);
    let cap = Duration::from_secs(60);
    assert_eq!(backoff_delay(1, base, cap, 1.0), Duration::from_secs(2));
    assert_eq!(backoff_delay(2, base, cap, 1.0), Duration::from_secs(4));
    assert_eq!(backoff_delay(3, base, cap, 1.0), Duration::from_secs(8));
    assert_eq!(backoff_delay(3, base, cap, 0.0), Duration::from_secs(4));
    assert_eq!(backoff_delay(10, base, cap, 1.0), cap);
    assert_eq!(backoff_delay(u32::MAX, base, cap, 0.0), cap / 2);
}

#[test]
fn long_errors_are_cut_on_a_char_boundary() {
    let long = "é".repeat(MAX_ERROR_LEN);
    let cut = truncate_error(&long);
    assert!(cut.len() <= MAX_ERROR_LEN + '…'.len_utf8());
    assert!(cut.ends_with('…'));
}
