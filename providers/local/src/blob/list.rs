//! Listing: walk the folder subtree that covers the prefix, read keys from the object
//! headers (file names may be hashes), sort by key bytes and paginate.

use std::fs;
use std::io;
use std::path::Path;

use stratus::Result;
use stratus::blob::{ListOptions, ListPage, ObjectMeta, paginate};

use super::files::fs_error;
use super::header::Header;
use super::layout::{DIR_SUFFIX, Layout, OBJECT_SUFFIX};

/// One page of the store's keys. Blocking.
pub fn list(layout: &Layout, opts: &ListOptions) -> Result<ListPage> {
    let mut found = Vec::new();
    collect(&layout.prefix_dir(&opts.prefix), &opts.prefix, &mut found)?;
    found.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(paginate(found, opts))
}

/// Adds the list metadata of every object below `dir` whose key starts with `prefix`.
/// Entries that vanish while walking (concurrent deletes) are skipped.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<ObjectMeta>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(fs_error(format!("cannot list {}", dir.display()), e)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(fs_error(format!("cannot list {}", dir.display()), e)),
        };
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() && name.ends_with(DIR_SUFFIX) {
            collect(&path, prefix, out)?;
        } else if kind.is_file() && name.ends_with(OBJECT_SUFFIX) {
            match Header::open(&path) {
                Ok((_, header, _)) if header.key.starts_with(prefix) => {
                    out.push(header.list_meta())
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(fs_error(format!("cannot read {}", path.display()), e)),
            }
        }
    }
    Ok(())
}
