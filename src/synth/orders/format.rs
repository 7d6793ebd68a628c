//! Fast CSV text of order lines: every name as bytes, dates from a table, numbers written
//! by hand (money from whole cents, so always exactly two decimals).

use chrono::{Days, NaiveDate};

use super::{OrderLine, OrderNames};

pub(super) fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

pub(super) fn customer_width(customers: usize) -> usize {
    digits(customers).max(6)
}

/// Byte strings of every name, for fast CSV writing.
pub(super) struct Format {
    first_day: NaiveDate,
    dates: Vec<[u8; 10]>,
    customer_width: usize,
    channels: Vec<Vec<u8>>,
    regions: Vec<Vec<u8>>,
    categories: Vec<Vec<u8>>,
    products: Vec<Vec<u8>>,
}

impl Format {
    /// Names, and the dates of `days` days from `first_day` (years 1 to 9999).
    pub(super) fn new(names: &OrderNames, first_day: NaiveDate, days: usize) -> Format {
        let dates = (0..days as u64)
            .map(|d| {
                let date = first_day
                    .checked_add_days(Days::new(d))
                    .unwrap_or(first_day);
                let mut s = [0u8; 10];
                s.copy_from_slice(date.format("%Y-%m-%d").to_string().as_bytes());
                s
            })
            .collect();
        let bytes = |v: &[String]| v.iter().map(|s| s.as_bytes().to_vec()).collect();
        Format {
            first_day,
            dates,
            customer_width: customer_width(names.customers),
            channels: bytes(&names.channels),
            regions: bytes(&names.regions),
            categories: bytes(&names.categories),
            products: bytes(&names.products),
        }
    }

    /// The CSV rows of `lines`.
    pub(super) fn all(&self, lines: &[OrderLine]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(lines.len() * 80);
        for l in lines {
            self.line(&mut buf, l);
        }
        buf
    }

    fn line(&self, buf: &mut Vec<u8>, l: &OrderLine) {
        uint(buf, l.order, 0);
        buf.push(b',');
        uint(buf, u64::from(l.line_no), 0);
        buf.extend_from_slice(b",c");
        uint(buf, u64::from(l.customer) + 1, self.customer_width);
        buf.push(b',');
        let day = (l.date - self.first_day).num_days() as usize;
        buf.extend_from_slice(&self.dates[day]);
        for (names, k) in [
            (&self.channels, usize::from(l.channel)),
            (&self.regions, usize::from(l.region)),
            (&self.categories, l.category as usize),
            (&self.products, l.product as usize),
        ] {
            buf.push(b',');
            buf.extend_from_slice(&names[k]);
        }
        buf.push(b',');
        int(buf, i64::from(l.quantity));
        buf.push(b',');
        cents(buf, l.amount_cents);
        buf.push(b',');
        cents(buf, l.cost_cents);
        buf.push(b'\n');
    }
}

/// Writes `v` in decimal, zero-padded to `width` digits.
fn uint(buf: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in tmp.len() - i..width {
        buf.push(b'0');
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn int(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    uint(buf, v.unsigned_abs(), 0);
}

/// Writes an amount in cents with exactly two decimals (`-12.05`).
fn cents(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    let a = v.unsigned_abs();
    uint(buf, a / 100, 0);
    buf.push(b'.');
    uint(buf, a % 100, 2);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn numbers_are_written_exactly() {
        assert_eq!(text(|b| cents(b, 0)), "0.00");
        assert_eq!(text(|b| cents(b, 5)), "0.05");
        assert_eq!(text(|b| cents(b, -1205)), "-12.05");
        assert_eq!(text(|b| cents(b, 123_456_789)), "1234567.89");
        assert_eq!(text(|b| uint(b, 42, 6)), "000042");
        assert_eq!(text(|b| uint(b, 1_234_567, 6)), "1234567");
        assert_eq!(text(|b| int(b, -3)), "-3");
    }
}
