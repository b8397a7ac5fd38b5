//! `TimeZoneInfo` over the IANA database jiff bundles (crates/expr/Cargo.toml). APIM runs on
//! Windows, so scripts name zones by Windows ids ("W. Europe Standard Time"); they are mapped to
//! IANA zones with CLDR's windowsZones table (the "001" territory of each Windows zone). IANA ids
//! work too, as on .NET on Linux. The gateway's own zone (`TimeZoneInfo.Local`) is UTC.
//!
//! The gateway's local zone is UTC, so a DateTime of any kind names the instant its ticks
//! give in UTC (`GetUtcOffset`, `ConvertTimeFromUtc`); the kind decides the kind of a
//! conversion's result and which conversions .NET refuses (crates/expr/src/library/timezones.rs).
//!
//! A custom zone (`CreateCustomTimeZone`, `FromSerializedString`) carries its own .NET
//! adjustment rules instead (timezone/custom.rs); a system zone's rules, as .NET 8 on Linux
//! reports them, are derived from its transitions (timezone/derived.rs).

use std::sync::Arc;

pub mod custom;
mod derived;

use crate::datetime::{DateTime, TICKS_PER_SECOND, UNIX_EPOCH_TICKS};

/// CLDR windowsZones.xml, territory "001": Windows id → IANA id.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("Dateline Standard Time", "Etc/GMT+12"),
    ("UTC-11", "Etc/GMT+11"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Mountain Standard Time", "America/Denver"),
    ("Central America Standard Time", "America/Guatemala"),
    ("Central Standard Time", "America/Chicago"),
    ("Canada Central Standard Time", "America/Regina"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("Eastern Standard Time", "America/New_York"),
    ("US Eastern Standard Time", "America/Indianapolis"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("SA Western Standard Time", "America/La_Paz"),
    ("Pacific SA Standard Time", "America/Santiago"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("Argentina Standard Time", "America/Buenos_Aires"),
    ("UTC-02", "Etc/GMT+2"),
    ("Azores Standard Time", "Atlantic/Azores"),
    ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    ("UTC", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("W. Central Africa Standard Time", "Africa/Lagos"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Middle East Standard Time", "Asia/Beirut"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Arabic Standard Time", "Asia/Baghdad"),
    ("Arab Standard Time", "Asia/Riyadh"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("E. Africa Standard Time", "Africa/Nairobi"),
    ("Iran Standard Time", "Asia/Tehran"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Afghanistan Standard Time", "Asia/Kabul"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("India Standard Time", "Asia/Calcutta"),
    ("Sri Lanka Standard Time", "Asia/Colombo"),
    ("Nepal Standard Time", "Asia/Katmandu"),
    ("Bangladesh Standard Time", "Asia/Dhaka"),
    ("Myanmar Standard Time", "Asia/Rangoon"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("West Pacific Standard Time", "Pacific/Port_Moresby"),
    ("Tasmania Standard Time", "Australia/Hobart"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("UTC+12", "Etc/GMT-12"),
    ("Tonga Standard Time", "Pacific/Tongatapu"),
    ("Line Islands Standard Time", "Pacific/Kiritimati"),
];

/// A time zone: the id the script asked for and the rules it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub id: Arc<str>,
    /// True for a Windows id: names print as Windows prints them.
    pub windows: bool,
    /// The obsolete `System.TimeZone` (`TimeZone.CurrentTimeZone`) rather than a TimeZoneInfo.
    pub legacy: bool,
    tz: jiff::tz::TimeZone,
    /// A zone made by `CreateCustomTimeZone`/`FromSerializedString`: its own rules, which
    /// replace `tz` (then UTC and unused).
    pub custom: Option<Arc<custom::Custom>>,
}

fn timestamp(d: DateTime) -> jiff::Timestamp {
    let secs = (d.0 - UNIX_EPOCH_TICKS).div_euclid(TICKS_PER_SECOND);
    // DateTime's range lies within Timestamp's; UNIX_EPOCH is a safe fallback all the same.
    jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

impl Zone {
    /// `TimeZoneInfo.Utc` (and `Local`: the gateway runs in UTC).
    pub fn utc() -> Zone {
        Zone {
            id: "UTC".into(),
            windows: false,
            legacy: false,
            tz: jiff::tz::TimeZone::UTC,
            custom: None,
        }
    }

    /// A custom zone with this id and these rules.
    pub fn custom(id: &str, rules: custom::Custom) -> Zone {
        Zone {
            id: id.into(),
            custom: Some(Arc::new(rules)),
            ..Zone::utc()
        }
    }

    /// `TimeZoneInfo.Utc` itself (or `Local`), not a custom zone that happens to be named so.
    pub fn is_utc(&self) -> bool {
        &*self.id == "UTC" && self.custom.is_none() && !self.legacy
    }

    /// `TimeZone.CurrentTimeZone`: the gateway's zone, UTC.
    pub fn current_legacy() -> Zone {
        Zone {
            legacy: true,
            ..Zone::utc()
        }
    }

    /// `FindSystemTimeZoneById`: a Windows id or an IANA id; `None` when neither.
    pub fn find(id: &str) -> Option<Zone> {
        if id == "UTC" {
            return Some(Zone::utc());
        }
        if let Some((_, iana)) = WINDOWS_ZONES.iter().find(|(w, _)| *w == id) {
            let tz = jiff::tz::db().get(iana).ok()?;
            return Some(Zone {
                id: id.into(),
                windows: true,
                legacy: false,
                tz,
                custom: None,
            });
        }
        // IANA names are case-sensitive on .NET; jiff matches case-insensitively.
        let tz = jiff::tz::db().get(id).ok()?;
        (tz.iana_name() == Some(id)).then(|| Zone {
            id: id.into(),
            windows: false,
            legacy: false,
            tz,
            custom: None,
        })
    }

    /// Every Windows zone the id table knows, for `GetSystemTimeZones` (APIM lists Windows
    /// zones); a zone the bundled database lacks is left out. Looked up once per process:
    /// the list is constant, and finding ~140 zones in the bundled database takes tens of
    /// milliseconds, a good part of an expression's time budget.
    pub fn windows_zones() -> Vec<Zone> {
        static ZONES: std::sync::OnceLock<Vec<Zone>> = std::sync::OnceLock::new();
        ZONES
            .get_or_init(|| {
                WINDOWS_ZONES
                    .iter()
                    .filter_map(|(w, _)| Zone::find(w))
                    .collect()
            })
            .clone()
    }

    /// The offset in seconds and whether it is daylight time, at a UTC instant.
    pub fn offset_at(&self, utc: DateTime) -> (i64, bool) {
        if let Some(c) = &self.custom {
            let (ticks, dst) = c.offset_from_utc(utc.0);
            return (ticks / TICKS_PER_SECOND, dst);
        }
        let info = self.tz.to_offset_info(timestamp(utc));
        (i64::from(info.offset().seconds()), info.dst().is_dst())
    }

    fn abbreviation_at(&self, utc: DateTime) -> String {
        self.tz
            .to_offset_info(timestamp(utc))
            .abbreviation()
            .to_string()
    }

    /// The standard (non-daylight) offset in seconds in the year of `now`: `BaseUtcOffset`.
    pub fn base_offset(&self, now: DateTime) -> i64 {
        if let Some(c) = &self.custom {
            return c.base_offset / TICKS_PER_SECOND;
        }
        let (jan, jul) = self.solstices(now);
        let (a, a_dst) = self.offset_at(jan);
        let (b, _) = self.offset_at(jul);
        if a_dst { b } else { a }
    }

    fn solstices(&self, now: DateTime) -> (DateTime, DateTime) {
        let y = now.parts().year;
        let jan = DateTime::from_parts(y, 1, 1, 0, 0, 0, 0).unwrap_or(now);
        let jul = DateTime::from_parts(y, 7, 1, 0, 0, 0, 0).unwrap_or(now);
        (jan, jul)
    }

    /// Whether the zone has daylight time: in the year of `now` for a Windows id (Windows
    /// keeps the current rules), at any time in its history for an IANA id (as .NET on Linux).
    pub fn supports_dst(&self, now: DateTime) -> bool {
        if let Some(c) = &self.custom {
            return c.supports_dst;
        }
        let (jan, jul) = self.solstices(now);
        if self.offset_at(jan).1 || self.offset_at(jul).1 {
            return true;
        }
        !self.windows
            && self
                .tz
                .preceding(timestamp(now))
                .take(2_000)
                .any(|t| t.dst().is_dst())
    }

    /// `StandardName`: the Windows id for a Windows zone, else the standard abbreviation.
    pub fn standard_name(&self, now: DateTime) -> String {
        if let Some(c) = &self.custom {
            return c.standard_name.clone();
        }
        if self.windows {
            return self.id.to_string();
        }
        let (jan, jul) = self.solstices(now);
        let at = if self.offset_at(jan).1 { jul } else { jan };
        self.abbreviation_at(at)
    }

    /// `DaylightName`.
    pub fn daylight_name(&self, now: DateTime) -> String {
        if let Some(c) = &self.custom {
            return c.daylight_name.clone();
        }
        if self.windows {
            return self.id.replace("Standard Time", "Daylight Time");
        }
        let (jan, jul) = self.solstices(now);
        match (self.offset_at(jan).1, self.offset_at(jul).1) {
            (true, _) => self.abbreviation_at(jan),
            (_, true) => self.abbreviation_at(jul),
            _ => self
                .tz
                .preceding(timestamp(now))
                .take(2_000)
                .find(|t| t.dst().is_dst())
                .map(|t| t.abbreviation().to_string())
                .unwrap_or_else(|| self.standard_name(now)),
        }
    }

    /// `DisplayName`: "(UTC+01:00) W. Europe Standard Time" for a Windows id (Windows lists
    /// cities there, which the id stands in for), the standard name for an IANA id.
    pub fn display_name(&self, now: DateTime) -> String {
        if let Some(c) = &self.custom {
            return c.display_name.clone();
        }
        if !self.windows {
            return self.standard_name(now);
        }
        let base = self.base_offset(now) / 60;
        let sign = if base < 0 { '-' } else { '+' };
        let (h, m) = (base.abs() / 60, base.abs() % 60);
        if self.id.as_ref() == "UTC" {
            return "(UTC) Coordinated Universal Time".into();
        }
        format!("(UTC{sign}{h:02}:{m:02}) {}", self.id)
    }

    /// The offsets (seconds, ascending) with their daylight flags under which clock time
    /// `clock` happens in this zone: none in a skipped hour (an invalid time), two in a
    /// repeated one (an ambiguous time), else one.
    pub fn offsets_of_clock(&self, clock: DateTime) -> Vec<(i64, bool)> {
        let day = 86_400 * TICKS_PER_SECOND;
        let mut out: Vec<(i64, bool)> = Vec::new();
        for probe in [clock.0 - day, clock.0 + day] {
            let (o, _) =
                self.offset_at(DateTime(probe, crate::datetime::DateTimeKind::Unspecified));
            let Some(u) = DateTime::checked(clock.0 - o * TICKS_PER_SECOND) else {
                continue;
            };
            let (real, dst) = self.offset_at(u);
            if real == o && !out.iter().any(|(x, _)| *x == o) {
                out.push((o, dst));
            }
        }
        out.sort();
        out
    }

    /// The UTC instant of clock time `clock` in this zone; in a repeated hour the standard
    /// time, as .NET; `None` for a clock time the zone skips.
    pub fn to_utc(&self, clock: DateTime) -> Option<DateTime> {
        let day = 86_400 * TICKS_PER_SECOND;
        let mut found: Option<(DateTime, bool)> = None;
        for probe in [clock.0 - day, clock.0 + day] {
            let (o, _) =
                self.offset_at(DateTime(probe, crate::datetime::DateTimeKind::Unspecified));
            let u = DateTime::checked(clock.0 - o * TICKS_PER_SECOND)?;
            let (real, dst) = self.offset_at(u);
            if real == o && found.is_none_or(|(_, was_dst)| was_dst && !dst) {
                found = Some((u, dst));
            }
        }
        found.map(|(u, _)| u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: i64, d: i64, h: i64) -> DateTime {
        DateTime::from_parts(y, mo, d, h, 0, 0, 0).expect("valid")
    }

    #[test]
    fn windows_ids_have_their_zones_offsets() {
        let berlin = Zone::find("W. Europe Standard Time").expect("known");
        assert_eq!(berlin.offset_at(at(2024, 1, 15, 12)), (3600, false));
        assert_eq!(berlin.offset_at(at(2024, 7, 15, 12)), (7200, true));
        assert_eq!(berlin.base_offset(at(2024, 7, 1, 0)), 3600);
        let ny = Zone::find("Eastern Standard Time").expect("known");
        assert_eq!(ny.offset_at(at(2024, 1, 15, 12)).0, -5 * 3600);
        assert_eq!(ny.offset_at(at(2024, 7, 15, 12)).0, -4 * 3600);
        let tokyo = Zone::find("Tokyo Standard Time").expect("known");
        assert_eq!(tokyo.offset_at(at(2024, 7, 15, 12)), (9 * 3600, false));
        assert!(!tokyo.supports_dst(at(2024, 1, 1, 0)));
        assert_eq!(
            tokyo.display_name(at(2024, 1, 1, 0)),
            "(UTC+09:00) Tokyo Standard Time"
        );
        let india = Zone::find("India Standard Time").expect("known");
        assert_eq!(india.base_offset(at(2024, 1, 1, 0)), 19_800);
        assert_eq!(
            berlin.daylight_name(at(2024, 1, 1, 0)),
            "W. Europe Daylight Time"
        );
    }

    #[test]
    fn unknown_ids_and_case() {
        assert!(Zone::find("Nowhere/X").is_none());
        assert!(Zone::find("europe/berlin").is_none());
        assert!(Zone::find("Europe/Berlin").is_some());
    }

    #[test]
    fn clock_to_utc_in_gaps_and_folds() {
        let berlin = Zone::find("Europe/Berlin").expect("known");
        assert_eq!(berlin.to_utc(at(2024, 7, 1, 12)), Some(at(2024, 7, 1, 10)));
        // 2024-03-31 02:30 does not exist in Berlin.
        assert_eq!(
            berlin.to_utc(DateTime(
                at(2024, 3, 31, 2).0 + 30 * 60 * TICKS_PER_SECOND,
                crate::datetime::DateTimeKind::Unspecified
            )),
            None
        );
        // 2024-10-27 02:30 happens twice; .NET takes the standard time (+01:00).
        let fold = DateTime(
            at(2024, 10, 27, 2).0 + 30 * 60 * TICKS_PER_SECOND,
            crate::datetime::DateTimeKind::Unspecified,
        );
        assert_eq!(
            berlin.to_utc(fold),
            Some(DateTime(
                at(2024, 10, 27, 1).0 + 30 * 60 * TICKS_PER_SECOND,
                crate::datetime::DateTimeKind::Unspecified
            ))
        );
    }
}
