//! Pacemaker's scores: integers clamped to ±INFINITY (1,000,000), where −INFINITY wins over
//! +INFINITY in a sum.

use std::fmt;
use std::ops::Add;

/// Pacemaker's INFINITY.
pub const INFINITY: i64 = 1_000_000;

/// A placement score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Score(pub i64);

impl Score {
    /// +INFINITY.
    pub const INF: Self = Self(INFINITY);
    /// −INFINITY.
    pub const NEG_INF: Self = Self(-INFINITY);
    /// Zero.
    pub const ZERO: Self = Self(0);

    /// Parse a score as the CIB writes it: an integer, `INFINITY`, `+INFINITY`, `-INFINITY`
    /// (Pacemaker also accepts `red`/`yellow`/`green` for node health; those are not scores
    /// here). Out-of-range integers are clamped.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        match t {
            "INFINITY" | "+INFINITY" | "infinity" | "+infinity" => Some(Self::INF),
            "-INFINITY" | "-infinity" => Some(Self::NEG_INF),
            _ => {
                // Like Pacemaker's char2score: the leading integer counts ("1.0" is 1).
                let end = t
                    .char_indices()
                    .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
                    .map_or(t.len(), |(i, _)| i);
                t[..end]
                    .parse::<i64>()
                    .ok()
                    .map(|v| Self(v.clamp(-INFINITY, INFINITY)))
            }
        }
    }

    /// True for −INFINITY.
    pub fn is_neg_inf(self) -> bool {
        self.0 <= -INFINITY
    }

    /// The score times `factor` (a colocation's score / INFINITY), as Pacemaker passes a
    /// dependent's preferences on to its primary: rounded half away from zero, and never
    /// rounded to nothing: a non-zero score keeps at least 1, with the factor's sign (so that
    /// small preferences still break ties).
    pub fn scaled(self, factor: f64) -> Self {
        let exact = self.0 as f64 * factor;
        let mut delta = exact.round() as i64;
        if delta == 0 && self.0 != 0 {
            delta = if factor > 0.0 {
                1
            } else if factor < 0.0 {
                -1
            } else {
                0
            };
        }
        Self(delta.clamp(-INFINITY, INFINITY))
    }
}

impl Add for Score {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        if self.0 <= -INFINITY || other.0 <= -INFINITY {
            return Self::NEG_INF;
        }
        if self.0 >= INFINITY || other.0 >= INFINITY {
            return Self::INF;
        }
        Self((self.0 + other.0).clamp(-INFINITY, INFINITY))
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            v if v >= INFINITY => f.write_str("INFINITY"),
            v if v <= -INFINITY => f.write_str("-INFINITY"),
            v => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_infinity_wins_over_infinity() {
        assert_eq!(Score::INF + Score::NEG_INF, Score::NEG_INF);
        assert_eq!(Score(5) + Score::INF, Score::INF);
        assert_eq!(Score(999_999) + Score(5), Score::INF);
    }

    #[test]
    fn parses_cib_spellings() {
        assert_eq!(Score::parse("+INFINITY"), Some(Score::INF));
        assert_eq!(Score::parse("-INFINITY"), Some(Score::NEG_INF));
        assert_eq!(Score::parse("-20"), Some(Score(-20)));
        assert_eq!(Score::parse("5000000"), Some(Score::INF));
        assert_eq!(Score::parse("1.0"), Some(Score(1)));
        assert_eq!(Score::parse("abc"), None);
    }

    #[test]
    fn scaling_rounds_but_never_to_nothing() {
        assert_eq!(Score(153).scaled(0.0001), Score(1));
        // The sign is the factor's, as in Pacemaker (crm_simulate shows it too).
        assert_eq!(Score(-153).scaled(0.0001), Score(1));
        assert_eq!(Score(153).scaled(-0.0001), Score(-1));
        assert_eq!(Score(15000).scaled(0.5), Score(7500));
        assert_eq!(Score(20000).scaled(0.0001), Score(2));
        assert_eq!(Score(0).scaled(0.5), Score(0));
        assert_eq!(Score::NEG_INF.scaled(0.0001), Score(-100));
        assert_eq!(Score::NEG_INF.scaled(1.0), Score::NEG_INF);
    }
}
