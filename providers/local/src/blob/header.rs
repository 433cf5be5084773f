//! The object file format: a small length-prefixed JSON header followed by the data, so a
//! single rename publishes data, metadata and ETag together.
//!
//! Layout: the 4 bytes `SBO1`, the header length as a little-endian `u32`, the header
//! JSON, then `size` bytes of data. Multipart part files use the same format.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use stratus::blob::{DEFAULT_CONTENT_TYPE, ObjectMeta};

const MAGIC: &[u8; 4] = b"SBO1";
/// Headers are small (a 1 KiB key plus 2 KiB of metadata); anything larger is corrupt.
const MAX_HEADER_BYTES: u32 = 64 * 1024;

/// What is stored before an object's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The object's key (the file name may be a hash of it).
    pub key: String,
    /// Data length in bytes.
    pub size: u64,
    /// Fresh random token of the write that produced this file.
    pub etag: String,
    /// MIME type.
    pub content_type: String,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
    /// Seconds of the write time since the Unix epoch.
    pub modified_secs: u64,
    /// Nanoseconds of the write time within the second.
    pub modified_nanos: u32,
}

impl Header {
    /// A header for a new write of `size` bytes: fresh ETag, current time.
    pub fn new(
        key: &str,
        size: u64,
        content_type: Option<String>,
        metadata: BTreeMap<String, String>,
    ) -> Self {
        let since = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            key: key.to_owned(),
            size,
            etag: new_etag(),
            content_type: content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            metadata,
            modified_secs: since.as_secs(),
            modified_nanos: since.subsec_nanos(),
        }
    }

    /// The object's full metadata.
    pub fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            key: self.key.clone(),
            size: self.size,
            etag: self.etag.clone(),
            last_modified: SystemTime::UNIX_EPOCH
                + Duration::new(self.modified_secs, self.modified_nanos),
            content_type: Some(self.content_type.clone()),
            metadata: self.metadata.clone(),
        }
    }

    /// The metadata a list returns: no content type, no user metadata.
    pub fn list_meta(&self) -> ObjectMeta {
        ObjectMeta {
            content_type: None,
            metadata: BTreeMap::new(),
            ..self.meta()
        }
    }

    /// Writes the header to `out`.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let json = serde_json::to_vec(self).map_err(io::Error::other)?;
        let len = u32::try_from(json.len())
            .ok()
            .filter(|n| *n <= MAX_HEADER_BYTES)
            .ok_or_else(|| io::Error::other("object header too large"))?;
        out.write_all(MAGIC)?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&json)
    }

    /// Reads the header at the start of `file`, leaving the file positioned at the data.
    /// Returns the header and the data's offset in the file. A malformed header is
    /// `InvalidData`.
    pub fn read_from(file: &mut File) -> io::Result<(Header, u64)> {
        let mut prefix = [0u8; 8];
        file.read_exact(&mut prefix)
            .map_err(|e| corrupt_if_eof(e, "file shorter than a header"))?;
        if &prefix[..4] != MAGIC {
            return Err(corrupt("not a stratus object file"));
        }
        let len = u32::from_le_bytes(prefix[4..].try_into().expect("4 bytes"));
        if len > MAX_HEADER_BYTES {
            return Err(corrupt("header length out of range"));
        }
        let mut json = vec![0u8; len as usize];
        file.read_exact(&mut json)
            .map_err(|e| corrupt_if_eof(e, "truncated header"))?;
        let header: Header = serde_json::from_slice(&json).map_err(|e| corrupt(&e.to_string()))?;
        Ok((header, 8 + u64::from(len)))
    }

    /// Opens `path` and reads its header; the file is positioned at the data.
    pub fn open(path: &Path) -> io::Result<(File, Header, u64)> {
        let mut file = File::open(path)?;
        let (header, offset) = Header::read_from(&mut file)?;
        Ok((file, header, offset))
    }
}

/// A fresh random ETag.
pub fn new_etag() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt object file: {what}"),
    )
}

fn corrupt_if_eof(e: io::Error, what: &str) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        corrupt(what)
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_data_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.o");
        let header = Header::new("a/b", 3, None, BTreeMap::from([("k".into(), "v".into())]));
        let mut file = File::create(&path).unwrap();
        header.write_to(&mut file).unwrap();
        file.write_all(b"abc").unwrap();
        drop(file);
        let (mut file, read, offset) = Header::open(&path).unwrap();
        assert_eq!(read, header);
        assert_eq!(read.content_type, DEFAULT_CONTENT_TYPE);
        let mut rest = Vec::new();
        file.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"abc");
        assert_eq!(offset + 3, std::fs::metadata(&path).unwrap().len());
        assert_eq!(read.meta().last_modified, header.meta().last_modified);
    }

    #[test]
    fn garbage_is_invalid_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.o");
        std::fs::write(&path, b"nope").unwrap();
        assert_eq!(
            Header::open(&path).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        std::fs::write(&path, b"SBO1\xff\xff\xff\xff").unwrap();
        assert_eq!(
            Header::open(&path).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
