//! The little XDR (RFC 4506) that libvirt's RPC protocol needs: big-endian 32-bit words,
//! length-prefixed strings padded to 4 bytes, fixed opaque arrays.

/// Writes XDR.
#[derive(Debug, Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    /// A signed or unsigned 32-bit word.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A signed 32-bit word.
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A fixed-length opaque array, padded to 4 bytes.
    pub fn fixed(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(bytes);
        self.0.resize(self.0.len() + (4 - bytes.len() % 4) % 4, 0);
        self
    }

    /// A string.
    pub fn string(&mut self, s: &str) -> &mut Self {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        self.u32(len);
        self.0.extend_from_slice(s.as_bytes());
        self.0.resize(self.0.len() + (4 - s.len() % 4) % 4, 0);
        self
    }

    /// An optional string (`remote_string`): a presence word, then the string.
    pub fn optional_string(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.u32(1).string(s),
            None => self.u32(0),
        }
    }
}

/// Reads XDR.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

/// The data ended early or was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed XDR at byte {0}")]
pub struct Malformed(pub usize);

impl<'a> Reader<'a> {
    /// Reads `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, at: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.at.checked_add(n).ok_or(Malformed(self.at))?;
        let bytes = self.data.get(self.at..end).ok_or(Malformed(self.at))?;
        self.at = end;
        Ok(bytes)
    }

    /// A 32-bit word.
    pub fn u32(&mut self) -> Result<u32, Malformed> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A signed 32-bit word.
    pub fn i32(&mut self) -> Result<i32, Malformed> {
        self.u32().map(|v| v as i32)
    }

    /// A string.
    pub fn string(&mut self) -> Result<String, Malformed> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        self.take((4 - len % 4) % 4)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// An optional string.
    pub fn optional_string(&mut self) -> Result<Option<String>, Malformed> {
        match self.u32()? {
            0 => Ok(None),
            _ => self.string().map(Some),
        }
    }

    /// A fixed-length opaque array.
    pub fn fixed(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let bytes = self.take(n)?;
        self.take((4 - n % 4) % 4)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_padded_and_read_back() {
        let mut w = Writer::default();
        w.string("abcde")
            .optional_string(None)
            .optional_string(Some("x"))
            .u32(7);
        assert_eq!(w.0.len(), 4 + 8 + 4 + 4 + 4 + 4 + 4);
        let mut r = Reader::new(&w.0);
        assert_eq!(r.string().unwrap(), "abcde");
        assert_eq!(r.optional_string().unwrap(), None);
        assert_eq!(r.optional_string().unwrap().as_deref(), Some("x"));
        assert_eq!(r.u32().unwrap(), 7);
        assert!(r.u32().is_err());
    }

    #[test]
    fn negative_words_and_fixed_arrays_round_trip() {
        let mut w = Writer::default();
        w.i32(-2).fixed(&[1, 2, 3]).fixed(&[9; 16]);
        assert_eq!(&w.0[..4], &[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(&w.0[4..8], &[1, 2, 3, 0]);
        assert_eq!(w.0.len(), 4 + 4 + 16);
        let mut r = Reader::new(&w.0);
        assert_eq!(r.i32().unwrap(), -2);
        assert_eq!(r.fixed(3).unwrap(), &[1, 2, 3]);
        assert_eq!(r.fixed(16).unwrap(), &[9; 16]);
    }
}
