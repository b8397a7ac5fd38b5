//! Port sets of NSG rules: `*`, a port, a range `10000-10005`, or a comma list of those
//! (spec NSG-1, NSG-8).
//!
//! A set is kept as sorted, merged, inclusive ranges so that a lookup is a binary search and
//! the text printed by `gatehouse net show` is the smallest equivalent of what was written.

use std::fmt;

/// A port item that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Not `*`, a number 0-65535 or `low-high`.
    #[error("bad port '{0}': expected '*', a port (0-65535) or a range like 10000-10005")]
    Invalid(String),
    /// `high-low`: Azure refuses it rather than guessing.
    #[error("bad port range '{0}': the first port is greater than the second")]
    Reversed(String),
    /// No item at all (an empty list or an empty string).
    #[error("empty port list: use '*' for any port")]
    Empty,
}

/// Sorted, merged, inclusive port ranges.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
}

impl PortSet {
    /// Every port, 0-65535 (Azure's `*`).
    pub fn any() -> Self {
        PortSet {
            ranges: vec![(0, u16::MAX)],
        }
    }

    /// Reads a rule's port values. Each item may itself be a comma list (`"80, 10000-10005"`);
    /// `*` anywhere makes the set "any". Empty items between commas are errors, so that a typo
    /// like `"80,,443"` is reported instead of silently ignored.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, PortError> {
        let mut ranges = Vec::new();
        let mut any = false;
        for item in items {
            for part in item.as_ref().split(',') {
                let part = part.trim();
                if part == "*" {
                    any = true;
                    continue;
                }
                ranges.push(parse_range(part)?);
            }
        }
        if any {
            return Ok(Self::any());
        }
        if ranges.is_empty() {
            return Err(PortError::Empty);
        }
        Ok(Self::from_ranges(ranges))
    }

    /// A set from inclusive ranges in any order, overlapping or not (`low > high` ranges are
    /// swapped rather than dropped: this is for trusted, programmatic input).
    pub fn from_ranges(ranges: impl IntoIterator<Item = (u16, u16)>) -> Self {
        let mut v: Vec<(u16, u16)> = ranges
            .into_iter()
            .map(|(a, b)| if a <= b { (a, b) } else { (b, a) })
            .collect();
        v.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            match merged.last_mut() {
                // Adjacent ranges merge too: 80-89 and 90-99 print as 80-99.
                Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => {
                    last.1 = last.1.max(hi);
                }
                _ => merged.push((lo, hi)),
            }
        }
        PortSet { ranges: merged }
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        // The first range whose end is >= port is the only candidate.
        let i = self.ranges.partition_point(|&(_, hi)| hi < port);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= port)
    }

    /// Whether the set holds every port (what `*` means).
    pub fn is_any(&self) -> bool {
        self.ranges.as_slice() == [(0, u16::MAX)]
    }

    /// The merged inclusive ranges, ascending.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }
}

impl Default for PortSet {
    /// `*`, as an omitted port field means in the config.
    fn default() -> Self {
        Self::any()
    }
}

fn parse_port(s: &str, whole: &str) -> Result<u16, PortError> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortError::Invalid(whole.to_string()));
    }
    s.parse::<u16>()
        .map_err(|_| PortError::Invalid(whole.to_string()))
}

fn parse_range(part: &str) -> Result<(u16, u16), PortError> {
    match part.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (parse_port(lo, part)?, parse_port(hi, part)?);
            if lo > hi {
                return Err(PortError::Reversed(part.to_string()));
            }
            Ok((lo, hi))
        }
        None => {
            let p = parse_port(part, part)?;
            Ok((p, p))
        }
    }
}

/// `*`, or `80,443,1000-2000`.
impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            return f.write_str("*");
        }
        for (i, &(lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_is_any() {
        let p = PortSet::parse(&["*"]).unwrap();
        assert!(p.is_any());
        assert!(p.contains(0) && p.contains(443) && p.contains(65535));
        assert_eq!(p.to_string(), "*");
        assert_eq!(PortSet::any(), p);
        assert_eq!(PortSet::default(), p);
        // `*` inside a list still means every port.
        assert!(PortSet::parse(&["80", "*"]).unwrap().is_any());
        assert!(PortSet::parse(&["0-65535"]).unwrap().is_any());
    }

    #[test]
    fn single_ports() {
        let p = PortSet::parse(&["443"]).unwrap();
        assert!(p.contains(443));
        assert!(!p.contains(442) && !p.contains(444));
        assert!(!p.is_any());
        assert_eq!(p.to_string(), "443");
    }

    #[test]
    fn ranges_are_inclusive() {
        let p = PortSet::parse(&["10000-10005"]).unwrap();
        assert!(p.contains(10000) && p.contains(10003) && p.contains(10005));
        assert!(!p.contains(9999) && !p.contains(10006));
        assert_eq!(p.to_string(), "10000-10005");
    }

    #[test]
    fn comma_lists_within_and_across_items() {
        // T20: "80, 10000-10005" matches 10003 but not 10006.
        let p = PortSet::parse(&["80, 10000-10005"]).unwrap();
        assert!(p.contains(80) && p.contains(10003));
        assert!(!p.contains(10006) && !p.contains(81));
        let q = PortSet::parse(&["443", "80", "1000-2000,1500-2500"]).unwrap();
        assert_eq!(q.to_string(), "80,443,1000-2500");
        assert_eq!(q.ranges(), &[(80, 80), (443, 443), (1000, 2500)]);
    }

    #[test]
    fn adjacent_and_duplicate_ranges_merge() {
        let p = PortSet::parse(&["80-89", "90-99", "85", "80"]).unwrap();
        assert_eq!(p.to_string(), "80-99");
        let q = PortSet::from_ranges([(65535, 65535), (0, 0), (5, 1)]);
        assert_eq!(q.to_string(), "0-5,65535");
    }

    #[test]
    fn bad_items_are_typed_errors() {
        assert_eq!(
            PortSet::parse(&["70000"]),
            Err(PortError::Invalid("70000".into()))
        );
        assert_eq!(
            PortSet::parse(&["2000-1000"]),
            Err(PortError::Reversed("2000-1000".into()))
        );
        assert_eq!(
            PortSet::parse(&["http"]),
            Err(PortError::Invalid("http".into()))
        );
        assert_eq!(
            PortSet::parse(&["80,,443"]),
            Err(PortError::Invalid("".into()))
        );
        assert_eq!(
            PortSet::parse(&["-5"]),
            Err(PortError::Invalid("-5".into()))
        );
        assert_eq!(
            PortSet::parse(&["+5"]),
            Err(PortError::Invalid("+5".into()))
        );
        assert_eq!(PortSet::parse::<&str>(&[]), Err(PortError::Empty));
        assert!(PortSet::parse(&["1-2-3"]).is_err());
    }

    #[test]
    fn lookup_over_many_ranges() {
        let p = PortSet::from_ranges((0..100u16).map(|i| (i * 100, i * 100 + 9)));
        for port in 0..10_000u16 {
            assert_eq!(p.contains(port), port % 100 < 10, "{port}");
        }
    }
}
