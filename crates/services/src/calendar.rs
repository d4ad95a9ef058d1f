//! Working days (工作日): weekdays work and weekends rest, except where the holiday
//! calendar says otherwise (a public holiday on a weekday, a make-up working day on a
//! weekend). Time limits of service items count in these days.

use std::collections::HashMap;

use time::{Date, Duration, Weekday};

/// The holiday calendar in force.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    exceptions: HashMap<Date, bool>,
}

impl Calendar {
    /// A calendar from (day, working) exceptions.
    pub fn new(exceptions: impl IntoIterator<Item = (Date, bool)>) -> Calendar {
        Calendar {
            exceptions: exceptions.into_iter().collect(),
        }
    }

    /// Whether `day` is a working day.
    pub fn is_working(&self, day: Date) -> bool {
        match self.exceptions.get(&day) {
            Some(working) => *working,
            None => !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday),
        }
    }

    /// The day `n` working days after `start` (`start` itself does not count, as a limit
    /// starts the day after submission); `n = 0` is `start`.
    pub fn add_working_days(&self, start: Date, n: i64) -> Date {
        let mut day = start;
        let mut left = n.max(0);
        // Bounded: no calendar has a year without working days.
        let mut guard = 0;
        while left > 0 && guard < 366 * 50 {
            day = day.saturating_add(Duration::days(1));
            if self.is_working(day) {
                left -= 1;
            }
            guard += 1;
        }
        day
    }

    /// Working days after `from` up to and including `to`; negative when `to` is earlier.
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = day.saturating_add(Duration::days(1));
            if self.is_working(day) {
                count += 1;
            }
        }
        count
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), format).ok()
}

/// Formats `YYYY-MM-DD`.
pub fn format_day(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        day.month() as u8,
        day.day()
    )
}

/// Today (UTC+8, the platform's civil day).
pub fn today() -> Date {
    (time::OffsetDateTime::now_utc() + Duration::hours(8)).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_day(s).unwrap()
    }

    #[test]
    fn weekends_rest_and_weekdays_work() {
        let c = Calendar::default();
        // Friday 2026-10-02 + 1 working day is Monday 2026-10-05.
        assert_eq!(c.add_working_days(d("2026-10-02"), 1), d("2026-10-05"));
        assert_eq!(c.add_working_days(d("2026-10-02"), 0), d("2026-10-02"));
        assert_eq!(c.working_days_between(d("2026-10-02"), d("2026-10-05")), 1);
        assert_eq!(c.working_days_between(d("2026-10-05"), d("2026-10-02")), -1);
    }

    #[test]
    fn holidays_and_make_up_days_count() {
        // National Day 2026: 1–7 October off, Saturday 10 October worked instead.
        let mut days: Vec<(Date, bool)> = (1..=7)
            .map(|n| (d(&format!("2026-10-0{n}")), false))
            .collect();
        days.push((d("2026-10-10"), true));
        let c = Calendar::new(days);
        assert!(!c.is_working(d("2026-10-05")));
        assert!(c.is_working(d("2026-10-10")));
        // Submitted on 30 September: day 1 is 8 October, day 3 is Saturday 10 October.
        assert_eq!(c.add_working_days(d("2026-09-30"), 1), d("2026-10-08"));
        assert_eq!(c.add_working_days(d("2026-09-30"), 3), d("2026-10-10"));
        assert_eq!(c.working_days_between(d("2026-09-30"), d("2026-10-12")), 4);
    }
}
