//! The text encoding and line ends of an input, settled before any reader parses it: a
//! UTF-8 byte-order mark is dropped, UTF-16 and UTF-32 (recognised by their marks) are
//! refused by name, and a file whose lines end in a lone CR (classic Mac OS) is read as
//! if they ended in LF, so every reader counts its lines the same way.
//!
//! Written here rather than taken from `encoding_rs_io`: the readers need refusal with a
//! typed error and the CR rule, not transcoding, and both fit in a few lines.

use std::borrow::Cow;
use std::io::Read;

use crate::error::{Error, Result};

/// How much of a stream is looked at to decide whether its lines end in CR alone.
const SNIFF: usize = 64 << 10;

/// The encoding a byte-order mark announces, when it is one the readers refuse.
fn refused_mark(head: &[u8]) -> Option<&'static str> {
    // UTF-32 first: its little-endian mark starts with UTF-16's.
    if head.starts_with(&[0xFF, 0xFE, 0, 0]) {
        Some("UTF-32LE")
    } else if head.starts_with(&[0, 0, 0xFE, 0xFF]) {
        Some("UTF-32BE")
    } else if head.starts_with(&[0xFF, 0xFE]) {
        Some("UTF-16LE")
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Some("UTF-16BE")
    } else {
        None
    }
}

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Lines end in CR alone: a CR and no LF in what was seen.
fn cr_only(seen: &[u8]) -> bool {
    memchr::memchr(b'\r', seen).is_some() && memchr::memchr(b'\n', seen).is_none()
}

/// Whether a head of input needs [`decode_bytes`] (a mark, or CR-only line ends).
pub(super) fn needs_decoding(head: &[u8]) -> bool {
    refused_mark(head).is_some() || head.starts_with(UTF8_BOM) || cr_only(head)
}

/// The text of a whole input: without a UTF-8 byte-order mark, with LF line ends where
/// the input uses CR alone (decided on its first 64 KiB).
///
/// # Errors
/// [`Error::Encoding`] for a UTF-16 or UTF-32 byte-order mark.
pub(super) fn decode_bytes(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
    if let Some(encoding) = refused_mark(bytes) {
        return Err(Error::Encoding { encoding });
    }
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    // Decided on the head, as for a stream: no extra pass over a large input.
    Ok(if cr_only(&bytes[..bytes.len().min(SNIFF)]) {
        Cow::Owned(
            bytes
                .iter()
                .map(|&c| if c == b'\r' { b'\n' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(bytes)
    })
}

/// A stream with the rules of [`decode_bytes`], decided on its first 64 KiB.
pub(super) struct Text<R> {
    head: Vec<u8>,
    at: usize,
    inner: R,
    cr_only: bool,
}

impl<R: Read> Text<R> {
    /// Reads the head of `inner` and checks its mark.
    ///
    /// # Errors
    /// [`Error::Encoding`] for a UTF-16 or UTF-32 byte-order mark; [`Error::Io`].
    pub(super) fn new(mut inner: R) -> Result<Self> {
        let mut head = Vec::with_capacity(SNIFF);
        (&mut inner).take(SNIFF as u64).read_to_end(&mut head)?;
        if let Some(encoding) = refused_mark(&head) {
            return Err(Error::Encoding { encoding });
        }
        let at = if head.starts_with(UTF8_BOM) { 3 } else { 0 };
        let cr_only = cr_only(&head[at..]);
        Ok(Text {
            head,
            at,
            inner,
            cr_only,
        })
    }
}

impl<R: Read> Read for Text<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = if self.at < self.head.len() {
            let n = buf.len().min(self.head.len() - self.at);
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            n
        } else {
            self.inner.read(buf)?
        };
        if self.cr_only {
            for c in &mut buf[..n] {
                if *c == b'\r' {
                    *c = b'\n';
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        Text::new(bytes)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn marks_and_line_ends() {
        let plain = b"a,b\r\n1,2\r\n";
        assert_eq!(&*decode_bytes(plain).unwrap(), plain);
        assert_eq!(read_all(plain).unwrap(), plain);
        let bom = [UTF8_BOM, b"a,b\n1,2\n"].concat();
        assert_eq!(&*decode_bytes(&bom).unwrap(), b"a,b\n1,2\n");
        assert_eq!(read_all(&bom).unwrap(), b"a,b\n1,2\n");
        assert_eq!(&*decode_bytes(b"a,b\r1,2\r").unwrap(), b"a,b\n1,2\n");
        assert_eq!(read_all(b"a,b\r1,2\r").unwrap(), b"a,b\n1,2\n");
        for (bytes, name) in [
            (&[0xFF, 0xFE, b'a', 0][..], "UTF-16LE"),
            (&[0xFE, 0xFF, 0, b'a'][..], "UTF-16BE"),
            (&[0xFF, 0xFE, 0, 0][..], "UTF-32LE"),
            (&[0, 0, 0xFE, 0xFF][..], "UTF-32BE"),
        ] {
            let want = Error::Encoding { encoding: name };
            assert_eq!(decode_bytes(bytes).unwrap_err(), want);
            assert_eq!(read_all(bytes).unwrap_err(), want);
        }
    }
}
