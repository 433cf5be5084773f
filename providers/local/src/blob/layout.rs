//! Where things live under `root/<store>/`: object files, temp files, uploads, the lock.
//!
//! A key's `/`-separated segments become directory levels. Directories end in `.d` and
//! object files in `.o`, so `a` (object `a.o`) and `a/b` (object `a.d/b.o`) never collide,
//! and the bookkeeping entries (`.tmp`, `.uploads`, `.lock`) can never parse as either.
//!
//! Inside a name, `%` is escaped as `%25`. A segment whose escaped form is too long for
//! the filesystem (NAME_MAX is 255 bytes) is stored as a truncated prefix, the marker `%h`
//! and the SHA-256 of the whole segment; plain names never contain `%h`, so the mapping
//! stays injective. The real key is kept in each object's header.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Suffix of a directory that holds the keys below one segment.
pub const DIR_SUFFIX: &str = ".d";
/// Suffix of an object file.
pub const OBJECT_SUFFIX: &str = ".o";
/// Longest escaped segment stored as is (bytes, before the suffix).
const MAX_PLAIN_NAME_BYTES: usize = 200;
/// How much of a long segment's escaped form is kept before the hash.
const HASHED_PREFIX_BYTES: usize = 96;

/// Encodes one key segment as a file name stem (without suffix).
pub fn encode_segment(segment: &str) -> String {
    let escaped = segment.replace('%', "%25");
    if escaped.len() <= MAX_PLAIN_NAME_BYTES {
        return escaped;
    }
    let mut cut = HASHED_PREFIX_BYTES;
    while !escaped.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = Sha256::digest(segment.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}%h{hex}", &escaped[..cut])
}

/// Whether any segment of `key` is stored under a hashed name.
pub fn uses_hashed_names(key: &str) -> bool {
    key.split('/').any(|s| encode_segment(s).contains("%h"))
}

/// The paths of one store.
#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout of the store kept in `dir` (`root/<store>`).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where temp files are written before they are published.
    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join(".tmp")
    }

    /// Where multipart uploads keep their parts.
    pub fn uploads_dir(&self) -> PathBuf {
        self.dir.join(".uploads")
    }

    /// The lock file serialising conditional writes across processes.
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(".lock")
    }

    /// A fresh, unused temp path in the temp folder.
    pub fn temp_path(&self) -> PathBuf {
        self.tmp_dir()
            .join(format!("{}.tmp", uuid::Uuid::new_v4().simple()))
    }

    /// The folder of upload `id` (which must already be checked by [`valid_upload_id`]).
    pub fn upload_dir(&self, id: &str) -> PathBuf {
        self.uploads_dir().join(id)
    }

    /// The file of the object `key`.
    pub fn object_path(&self, key: &str) -> PathBuf {
        let mut path = self.dir.clone();
        let mut segments = key.split('/').peekable();
        while let Some(segment) = segments.next() {
            let suffix = if segments.peek().is_some() {
                DIR_SUFFIX
            } else {
                OBJECT_SUFFIX
            };
            path.push(encode_segment(segment) + suffix);
        }
        path
    }

    /// The deepest folder that holds every key starting with `prefix`.
    pub fn prefix_dir(&self, prefix: &str) -> PathBuf {
        let mut path = self.dir.clone();
        if let Some((dirs, _)) = prefix.rsplit_once('/') {
            for segment in dirs.split('/') {
                path.push(encode_segment(segment) + DIR_SUFFIX);
            }
        }
        path
    }
}

/// Whether `id` has the shape of an upload id this store hands out (so it is safe to use
/// as a path component).
pub fn valid_upload_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A fresh upload id.
pub fn new_upload_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_directories_do_not_collide() {
        let layout = Layout::new(PathBuf::from("/s"));
        assert_eq!(layout.object_path("a"), PathBuf::from("/s/a.o"));
        assert_eq!(layout.object_path("a/b"), PathBuf::from("/s/a.d/b.o"));
        assert_eq!(layout.object_path(".tmp"), PathBuf::from("/s/.tmp.o"));
        assert_eq!(layout.prefix_dir("a/b"), PathBuf::from("/s/a.d"));
        assert_eq!(layout.prefix_dir("a/b/"), PathBuf::from("/s/a.d/b.d"));
        assert_eq!(layout.prefix_dir("ab"), PathBuf::from("/s"));
    }

    #[test]
    fn percent_is_escaped() {
        assert_eq!(encode_segment("50%h"), "50%25h");
        assert!(!encode_segment("%h").contains("%h"));
    }

    #[test]
    fn long_segments_are_hashed_and_distinct() {
        let a = "x".repeat(300);
        let b = format!("{}y", "x".repeat(299));
        let (ea, eb) = (encode_segment(&a), encode_segment(&b));
        assert!(ea.len() < 200 && eb.len() < 200);
        assert!(ea.contains("%h"));
        assert_ne!(ea, eb);
        assert!(uses_hashed_names(&format!("dir/{a}")));
        assert!(!uses_hashed_names("dir/short"));
        // multi-byte characters are cut on a boundary
        let wide = "é".repeat(150);
        assert!(encode_segment(&wide).len() < 200);
    }

    #[test]
    fn upload_ids_are_checked() {
        assert!(valid_upload_id(&new_upload_id()));
        assert!(!valid_upload_id("../../etc"));
        assert!(!valid_upload_id(""));
    }
}
