//! Settings read from the environment for measuring a method with and
//! without a part of it (`TOUBAN_ROW_SHARE`, …). They are not part of the
//! product's configuration; a value that cannot be used is said once on
//! stderr, naming the variable and the value, and the default is kept.

use std::collections::HashSet;
use std::sync::Mutex;

/// Names already warned about (each is said once per process).
static WARNED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// The number in `[lo, hi]` that the environment variable `name` holds, or
/// `default` when it is unset; a value that is not such a number is said
/// once on stderr and `default` is kept.
pub(super) fn number(name: &'static str, default: f64, lo: f64, hi: f64) -> f64 {
    let Ok(raw) = std::env::var(name) else {
        return default;
    };
    match parse(&raw, lo, hi) {
        Ok(v) => v,
        Err(why) => {
            let mut warned = WARNED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if warned.get_or_insert_with(HashSet::new).insert(name) {
                eprintln!("{name}={raw:?} ignored: {why}; using {default}");
            }
            default
        }
    }
}

fn parse(raw: &str, lo: f64, hi: f64) -> Result<f64, String> {
    let v: f64 = raw.trim().parse().map_err(|_| "not a number".to_string())?;
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between {lo} and {hi}"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_value_is_a_number_in_range_or_says_why_not() {
        assert_eq!(parse(" 0.3 ", 0.0, 1.0), Ok(0.3));
        assert_eq!(parse("0", 0.0, 1.0), Ok(0.0));
        assert_eq!(parse("a fifth", 0.0, 1.0), Err("not a number".into()));
        assert_eq!(
            parse("1.5", 0.0, 1.0),
            Err("must be between 0 and 1".into())
        );
        assert_eq!(
            parse("NaN", 0.0, 1.0),
            Err("must be between 0 and 1".into())
        );
    }
}
