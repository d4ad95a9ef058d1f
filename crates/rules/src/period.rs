//! Periods: a unit (day, week, month, year, eternity), a first day and a number of units.
//! Written as OpenFisca writes them — `2017`, `2017-01`, `2017-01-15`, `2017-W05`,
//! `month:2017-01:3`, `year:2017-03`, `ETERNITY` — so situations and tests carry over.

use std::fmt;

use time::{Date, Duration, Month};

/// Reads a day written `YYYY-MM-DD`.
pub fn parse_day(raw: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &format).ok()
}

/// Writes a day as `YYYY-MM-DD`.
pub fn format_day(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The unit of a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// One calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// Twelve months from the first day (a calendar year when it starts in January).
    Year,
    /// For all time: values that never change (a birth date).
    Eternity,
}

impl Unit {
    /// The unit's name in `unit:start:size`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
            Unit::Year => "year",
            Unit::Eternity => "eternity",
        }
    }

    /// Parses a unit name (any case).
    pub fn parse(raw: &str) -> Option<Unit> {
        match raw.to_ascii_lowercase().as_str() {
            "day" => Some(Unit::Day),
            "week" => Some(Unit::Week),
            "month" => Some(Unit::Month),
            "year" => Some(Unit::Year),
            "eternity" => Some(Unit::Eternity),
            _ => None,
        }
    }
}

/// Why a text is not a period.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{text}' is not a period: {reason}")]
pub struct PeriodError {
    /// The text.
    pub text: String,
    /// What is wrong, in words.
    pub reason: String,
}

/// A period: `size` units from `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    /// Its unit.
    pub unit: Unit,
    /// Its first day (for eternity, the first representable day).
    pub start: Date,
    /// How many units (1 for eternity).
    pub size: u32,
}

fn bad(text: &str, reason: impl Into<String>) -> PeriodError {
    PeriodError {
        text: text.to_string(),
        reason: reason.into(),
    }
}

fn number(text: &str, part: &str, what: &str) -> Result<u32, PeriodError> {
    if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad(text, format!("the {what} '{part}' is not a number")));
    }
    part.parse()
        .map_err(|_| bad(text, format!("the {what} '{part}' is too large")))
}

fn date(text: &str, year: u32, month: u32, day: u32) -> Result<Date, PeriodError> {
    let year = i32::try_from(year).map_err(|_| bad(text, "the year is too large"))?;
    if !(1..=9999).contains(&year) {
        return Err(bad(text, "the year is outside 1–9999"));
    }
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| bad(text, format!("there is no month {month}")))?;
    let day = u8::try_from(day).map_err(|_| bad(text, format!("there is no day {day}")))?;
    Date::from_calendar_date(year, month, day)
        .map_err(|_| bad(text, format!("{month} {year} has no day {day}")))
}

/// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY-Www` into its unit and first day.
fn parse_start(text: &str, part: &str) -> Result<(Unit, Date), PeriodError> {
    let pieces: Vec<&str> = part.split('-').collect();
    match pieces.as_slice() {
        [y] => Ok((Unit::Year, date(text, number(text, y, "year")?, 1, 1)?)),
        [y, w] if w.starts_with('W') => {
            let year = number(text, y, "year")?;
            let week = number(text, &w[1..], "week")?;
            let week = u8::try_from(week).map_err(|_| bad(text, "there is no such week"))?;
            let year = i32::try_from(year).map_err(|_| bad(text, "the year is too large"))?;
            let day = Date::from_iso_week_date(year, week, time::Weekday::Monday)
                .map_err(|_| bad(text, format!("{year} has no ISO week {week}")))?;
            Ok((Unit::Week, day))
        }
        [y, m] => Ok((
            Unit::Month,
            date(text, number(text, y, "year")?, number(text, m, "month")?, 1)?,
        )),
        [y, m, d] => Ok((
            Unit::Day,
            date(
                text,
                number(text, y, "year")?,
                number(text, m, "month")?,
                number(text, d, "day")?,
            )?,
        )),
        _ => Err(bad(
            text,
            "write 2017, 2017-01, 2017-01-15, 2017-W05, month:2017-01:3 or ETERNITY",
        )),
    }
}

/// Adds `n` months, keeping the day where the month has it and else its last day.
fn add_months(day: Date, n: i64) -> Date {
    let index = i64::from(day.year()) * 12 + i64::from(u8::from(day.month())) - 1 + n;
    let year = i32::try_from(index.div_euclid(12))
        .unwrap_or(9999)
        .clamp(1, 9999);
    let month = u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1);
    let month = Month::try_from(month).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, day.day().min(last)).unwrap_or(day)
}

impl Period {
    /// A period of one `unit` starting on `start`.
    pub fn of(unit: Unit, start: Date) -> Period {
        Period {
            unit,
            start,
            size: 1,
        }
    }

    /// For all time.
    pub fn eternity() -> Period {
        Period {
            unit: Unit::Eternity,
            start: Date::MIN,
            size: 1,
        }
    }

    /// The calendar month of a day.
    pub fn month_of(day: Date) -> Period {
        Period::of(Unit::Month, day.replace_day(1).unwrap_or(day))
    }

    /// The calendar year of a day.
    pub fn year_of(day: Date) -> Period {
        Period::of(
            Unit::Year,
            Date::from_calendar_date(day.year(), Month::January, 1).unwrap_or(day),
        )
    }

    /// Parses a period as OpenFisca writes it.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("eternity") {
            return Ok(Period::eternity());
        }
        let parts: Vec<&str> = trimmed.split(':').collect();
        match parts.as_slice() {
            [start] => {
                let (unit, start) = parse_start(text, start)?;
                Ok(Period::of(unit, start))
            }
            [unit, start] | [unit, start, _] => {
                let unit = Unit::parse(unit).ok_or_else(|| {
                    bad(
                        text,
                        format!("'{unit}' is not a unit (day, week, month, year)"),
                    )
                })?;
                if unit == Unit::Eternity {
                    return Err(bad(text, "eternity has no start or size"));
                }
                let (written, first) = parse_start(text, start)?;
                if written > unit || (written == Unit::Week && unit != Unit::Week) {
                    return Err(bad(
                        text,
                        format!("a {} cannot start on a {}", unit.as_str(), written.as_str()),
                    ));
                }
                let size = match parts.get(2) {
                    Some(size) => number(text, size, "size")?,
                    None => 1,
                };
                if size == 0 {
                    return Err(bad(text, "the size is at least 1"));
                }
                Ok(Period {
                    unit,
                    start: first,
                    size,
                })
            }
            _ => Err(bad(text, "too many ':'")),
        }
    }

    /// The first day after the period (for eternity, none).
    pub fn next_start(&self) -> Option<Date> {
        let size = i64::from(self.size);
        match self.unit {
            Unit::Day => self.start.checked_add(Duration::days(size)),
            Unit::Week => self.start.checked_add(Duration::weeks(size)),
            Unit::Month => Some(add_months(self.start, size)),
            Unit::Year => Some(add_months(self.start, 12 * size)),
            Unit::Eternity => None,
        }
    }

    /// The last day of the period (for eternity, the last representable day).
    pub fn stop(&self) -> Date {
        self.next_start()
            .and_then(Date::previous_day)
            .unwrap_or(Date::MAX)
    }

    /// Whether `day` falls in the period.
    pub fn contains_day(&self, day: Date) -> bool {
        self.start <= day && day <= self.stop()
    }

    /// Whether `other` lies wholly within this period.
    pub fn contains(&self, other: &Period) -> bool {
        self.start <= other.start && other.stop() <= self.stop()
    }

    /// The period `n` of its own size later (earlier when negative).
    pub fn offset(&self, n: i64) -> Period {
        let size = i64::from(self.size) * n;
        let start = match self.unit {
            Unit::Day => self.start.checked_add(Duration::days(size)),
            Unit::Week => self.start.checked_add(Duration::weeks(size)),
            Unit::Month => Some(add_months(self.start, size)),
            Unit::Year => Some(add_months(self.start, 12 * size)),
            Unit::Eternity => Some(self.start),
        };
        Period {
            start: start.unwrap_or(self.start),
            ..*self
        }
    }

    /// The calendar year of its first day.
    pub fn this_year(&self) -> Period {
        Period::year_of(self.start)
    }

    /// The month of its first day.
    pub fn first_month(&self) -> Period {
        Period::month_of(self.start)
    }

    /// The month before its first month.
    pub fn last_month(&self) -> Period {
        self.first_month().offset(-1)
    }

    /// The calendar year before its first day's.
    pub fn last_year(&self) -> Period {
        self.this_year().offset(-1)
    }

    /// Days in the period.
    pub fn size_in_days(&self) -> i64 {
        (self.stop() - self.start).whole_days() + 1
    }

    /// Whole months in the period, if it is made of months.
    pub fn size_in_months(&self) -> Option<u32> {
        match self.unit {
            Unit::Month => Some(self.size),
            Unit::Year => Some(self.size * 12),
            _ => None,
        }
    }

    /// The periods of `unit` it is made of (months of a year, days of a month); an error
    /// when it cannot be split so (a month into years, a week into months, eternity).
    pub fn subperiods(&self, unit: Unit) -> Result<Vec<Period>, String> {
        let fits = match (self.unit, unit) {
            (Unit::Eternity, _) | (_, Unit::Eternity) => false,
            (a, b) if a == b => true,
            (Unit::Year, Unit::Month) | (_, Unit::Day) => true,
            (Unit::Week, Unit::Week) => true,
            _ => false,
        };
        if !fits {
            return Err(format!("{self} cannot be split into {}s", unit.as_str()));
        }
        let count = match unit {
            Unit::Day => u32::try_from(self.size_in_days()).unwrap_or(0),
            Unit::Month => self.size_in_months().unwrap_or(0),
            _ => self.size,
        };
        let first = Period::of(unit, self.start);
        Ok((0..i64::from(count)).map(|i| first.offset(i)).collect())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = (
            self.start.year(),
            u8::from(self.start.month()),
            self.start.day(),
        );
        let start = match self.unit {
            Unit::Eternity => return write!(f, "ETERNITY"),
            Unit::Day => format!("{y:04}-{m:02}-{d:02}"),
            Unit::Week => {
                let (iso_year, week, _) = self.start.to_iso_week_date();
                format!("{iso_year:04}-W{week:02}")
            }
            Unit::Month => format!("{y:04}-{m:02}"),
            Unit::Year if m == 1 => format!("{y:04}"),
            Unit::Year => format!("{y:04}-{m:02}"),
        };
        let plain = self.size == 1
            && match self.unit {
                Unit::Year => m == 1,
                _ => true,
            };
        if plain {
            write!(f, "{start}")
        } else if self.size == 1 {
            write!(f, "{}:{start}", self.unit.as_str())
        } else {
            write!(f, "{}:{start}:{}", self.unit.as_str(), self.size)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Period {
        Period::parse(text).unwrap()
    }

    #[test]
    fn periods_read_and_write_as_openfisca_writes_them() {
        for text in [
            "2017",
            "2017-01",
            "2017-01-15",
            "2020-W53",
            "month:2017-01:3",
            "year:2017-03",
            "year:2017:2",
            "day:2017-01-30:5",
            "ETERNITY",
        ] {
            assert_eq!(p(text).to_string(), text, "{text}");
        }
        assert_eq!(p("eternity"), Period::eternity());
        assert_eq!(p("year:2017-01").to_string(), "2017");
        assert_eq!(p("month:2017-01:1").to_string(), "2017-01");
    }

    #[test]
    fn bad_periods_say_what_is_wrong() {
        for (text, says) in [
            ("2017-13", "no month 13"),
            ("2017-02-30", "has no day 30"),
            ("20x7", "not a number"),
            ("fortnight:2017-01", "not a unit"),
            ("month:2017", "cannot start on a year"),
            ("month:2017-01:0", "at least 1"),
            ("2021-W53", "no ISO week 53"),
            ("", "not a number"),
        ] {
            let error = Period::parse(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn periods_know_their_days_months_and_neighbours() {
        let march = p("2016-02");
        assert_eq!(march.stop().to_string(), "2016-02-29");
        assert_eq!(march.size_in_days(), 29);
        assert_eq!(p("2017").size_in_days(), 365);
        assert_eq!(p("month:2017-11:3").stop().to_string(), "2018-01-31");
        assert_eq!(p("2017-01-31").offset(1).to_string(), "2017-02-01");
        assert_eq!(p("2017-01").offset(-1).to_string(), "2016-12");
        assert_eq!(p("2017-03").this_year().to_string(), "2017");
        assert_eq!(p("2017").last_month().to_string(), "2016-12");
        assert_eq!(p("2017-06-15").first_month().to_string(), "2017-06");
        assert_eq!(p("2017-06").last_year().to_string(), "2016");
        assert!(p("2017").contains(&p("2017-12")));
        assert!(!p("2017").contains(&p("month:2017-12:2")));
        assert!(Period::eternity().contains(&p("2017")));
        assert!(p("2020-W01").contains_day(p("2019-12-30").start));
    }

    #[test]
    fn periods_split_into_smaller_units_only() {
        let months = p("2017").subperiods(Unit::Month).unwrap();
        assert_eq!(months.len(), 12);
        assert_eq!(months[11].to_string(), "2017-12");
        assert_eq!(p("2017-02").subperiods(Unit::Day).unwrap().len(), 28);
        assert_eq!(
            p("month:2017-01:3").subperiods(Unit::Month).unwrap().len(),
            3
        );
        assert!(p("2017-01").subperiods(Unit::Year).is_err());
        assert!(p("2020-W01").subperiods(Unit::Month).is_err());
        assert!(Period::eternity().subperiods(Unit::Month).is_err());
    }
}
