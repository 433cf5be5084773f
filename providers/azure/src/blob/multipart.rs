//! Multipart uploads on Azure block blobs, which have blocks but no upload ids.
//!
//! - An upload is a manifest blob `.stratus-uploads/<upload id>` in the container (a prefix
//!   no logical store can use: store names start with a letter, so lists never show it). It
//!   holds the target blob, the put mode, content type, metadata and the start time. An
//!   unknown, malformed, aborted or completed id, or an id used with another key, is
//!   `NotFound`.
//! - A part is a Put Block on the target blob. Its block id is
//!   `<upload id><part:05><nanos:016x><random:08x>` (61 characters, the same length for every
//!   block stratus writes, as Azure requires): a re-uploaded part gets a new, later block, and
//!   the receipt ETag is that block id.
//! - Complete reads the manifest, checks the mode against the key (`Create`/`Update` answer
//!   early, before parts are checked, because a Put Blob onto the key discards its
//!   uncommitted blocks), then checks the listed receipts against the uncommitted block list:
//!   each must be the latest block of its part number, and every part but the last at least
//!   5 MiB. Put Block List commits the blocks with the content type, metadata and the
//!   condition (`If-None-Match: *` / `If-Match`), atomically; then the manifest is deleted.
//! - Abort deletes the manifest. Azure cannot delete uncommitted blocks: they are invisible
//!   (head, get and list never show them) and Azure garbage-collects them after a week, or
//!   at the next Put Blob or Put Block List of the key.
//! - Not recoverable: a Put Blob onto the key while an upload runs discards its parts
//!   (complete then answers `InvalidArgument`), and completing one of two concurrent uploads
//!   of one key discards the other's parts. Abandoned uploads leave their small manifest
//!   behind (a lifecycle rule on `.stratus-uploads/` can expire them).

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use stratus::blob::{DEFAULT_CONTENT_TYPE, ObjectMeta, PartReceipt, PutMode, PutOptions};
use stratus::limits::MIN_MULTIPART_PART_BYTES;
use stratus::{Error, ErrorKind, Result};

use super::meta::{encode_meta_name, encode_meta_value, quoted};
use crate::rest::{Client, Reply, Request, encode, parse_http_date};
use crate::xml;

/// The container prefix of upload manifests; no logical store (`[a-z]...`) can reach it.
pub const UPLOADS_PREFIX: &str = ".stratus-uploads/";

/// Length of an upload id (a v4 UUID in simple form).
const UPLOAD_ID_LEN: usize = 32;

/// What an upload remembers between calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    /// Full blob name (store prefix + key).
    blob: String,
    /// `overwrite`, `create` or `update`.
    mode: String,
    /// The ETag an `update` upload requires.
    etag: Option<String>,
    /// Content type of the final object.
    content_type: String,
    /// User metadata (unencoded).
    metadata: BTreeMap<String, String>,
    /// Start time, seconds since the Unix epoch (for cleaning up abandoned uploads).
    started: u64,
}

impl Manifest {
    fn mode(&self) -> PutMode {
        match (self.mode.as_str(), &self.etag) {
            ("create", _) => PutMode::Create,
            ("update", Some(etag)) => PutMode::Update { etag: etag.clone() },
            _ => PutMode::Overwrite,
        }
    }
}

/// Multipart uploads of one container through the signed REST client.
#[derive(Debug, Clone)]
pub struct Uploads {
    client: Client,
    container: String,
}

impl Uploads {
    /// Uploads into `container` through `client` (a Blob-flavour client of the blob endpoint).
    pub fn new(client: Client, container: String) -> Self {
        Self { client, container }
    }

    /// The request path of blob `name` (each segment percent-encoded).
    fn path(&self, name: &str) -> String {
        let segments: Vec<String> = name.split('/').map(encode).collect();
        format!("{}/{}", self.container, segments.join("/"))
    }

    fn manifest_path(&self, id: &str) -> String {
        self.path(&format!("{UPLOADS_PREFIX}{id}"))
    }

    /// Starts an upload of blob `blob` (key `key`) and returns its id.
    pub async fn start(&self, blob: &str, key: &str, opts: &PutOptions) -> Result<String> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (mode, etag) = match &opts.mode {
            PutMode::Overwrite => ("overwrite", None),
            PutMode::Create => ("create", None),
            PutMode::Update { etag } => ("update", Some(etag.clone())),
        };
        let manifest = Manifest {
            blob: blob.to_owned(),
            mode: mode.to_owned(),
            etag,
            content_type: opts
                .content_type
                .clone()
                .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            metadata: opts.metadata.clone(),
            started: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        };
        let body = serde_json::to_vec(&manifest)
            .map_err(|e| Error::internal("encoding an upload manifest").with_source(e))?;
        let request = Request::new(Method::PUT, self.manifest_path(&id))
            .header("x-ms-blob-type", "BlockBlob")
            .header("Content-Type", "application/json")
            .body(body);
        let what = format!("multipart start {key:?}");
        self.client.send(request, &what).await?.ok(&what)?;
        Ok(id)
    }

    /// The manifest of upload `id` if it belongs to `blob`; `NotFound` otherwise.
    async fn manifest(&self, blob: &str, key: &str, id: &str) -> Result<Manifest> {
        let unknown = || Error::not_found(format!("no multipart upload {id:?} for {key:?}"));
        let well_formed = id.len() == UPLOAD_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(unknown());
        }
        let what = format!("read upload {id:?}");
        let reply = self
            .client
            .send(Request::new(Method::GET, self.manifest_path(id)), &what)
            .await?;
        if reply.status == 404 {
            return Err(unknown());
        }
        let reply = reply.ok(&what)?;
        let manifest: Manifest = serde_json::from_slice(&reply.body)
            .map_err(|e| Error::internal(format!("{what}: bad manifest")).with_source(e))?;
        if manifest.blob != blob {
            return Err(unknown());
        }
        Ok(manifest)
    }

    /// Uploads part `number` of upload `id` as a new block of `blob`.
    pub async fn put_part(
        &self,
        blob: &str,
        key: &str,
        id: &str,
        number: u32,
        data: Bytes,
    ) -> Result<PartReceipt> {
        self.manifest(blob, key, id).await?;
        let block = block_id(id, number);
        let request = Request::new(Method::PUT, self.path(blob))
            .query("comp", "block")
            .query("blockid", STANDARD.encode(&block))
            .body(data);
        let what = format!("multipart put part {number} of {key:?}");
        self.client.send(request, &what).await?.ok(&what)?;
        Ok(PartReceipt {
            part_number: number,
            etag: block,
        })
    }

    /// Commits the listed parts of upload `id` as `blob` (key `key`).
    pub async fn complete(
        &self,
        blob: &str,
        key: &str,
        id: &str,
        parts: &[PartReceipt],
        max_bytes: u64,
    ) -> Result<ObjectMeta> {
        let manifest = self.manifest(blob, key, id).await?;
        let mode = manifest.mode();
        self.check_mode(blob, key, &mode).await?;
        let latest = self.latest_parts(blob, id).await?;
        let size = check_parts(parts, &latest, max_bytes)?;
        let mut body = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        for part in parts {
            body.push_str("<Uncommitted>");
            body.push_str(&STANDARD.encode(&part.etag));
            body.push_str("</Uncommitted>");
        }
        body.push_str("</BlockList>");
        let mut request = Request::new(Method::PUT, self.path(blob))
            .query("comp", "blocklist")
            .header("x-ms-blob-content-type", manifest.content_type.clone())
            .body(body);
        for (name, value) in &manifest.metadata {
            request = request.header(
                &format!("x-ms-meta-{}", encode_meta_name(name)),
                encode_meta_value(value),
            );
        }
        request = match &mode {
            PutMode::Overwrite => request,
            PutMode::Create => request.header("If-None-Match", "*"),
            PutMode::Update { etag } => request.header("If-Match", etag.clone()),
        };
        let what = format!("multipart complete {key:?}");
        let reply = self.client.send(request, &what).await?;
        if !reply.is_success() {
            return Err(mode_error(&reply, &mode, key, &what));
        }
        let etag = quoted(reply.header("ETag").unwrap_or_default());
        let last_modified = reply
            .header("Last-Modified")
            .and_then(parse_http_date)
            .unwrap_or_else(SystemTime::now);
        // The object is written; a manifest left behind only makes a later complete of the
        // same id fail its part check instead of answering NotFound.
        let _ = self.delete_manifest(id, key).await;
        Ok(ObjectMeta {
            key: key.to_owned(),
            size,
            etag,
            last_modified,
            content_type: Some(manifest.content_type),
            metadata: manifest.metadata,
        })
    }

    /// Ends upload `id` of `blob`; its blocks stay invisible until Azure collects them.
    pub async fn abort(&self, blob: &str, key: &str, id: &str) -> Result<()> {
        self.manifest(blob, key, id).await?;
        match self.delete_manifest(id, key).await {
            Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::not_found(format!(
                "no multipart upload {id:?} for {key:?}"
            ))),
            other => other,
        }
    }

    async fn delete_manifest(&self, id: &str, key: &str) -> Result<()> {
        let what = format!("end upload {id:?} of {key:?}");
        let request = Request::new(Method::DELETE, self.manifest_path(id));
        self.client.send(request, &what).await?.ok(&what)?;
        Ok(())
    }

    /// Early answer for `Create`/`Update` (the Put Block List condition stays the atomic
    /// check): a Put Blob onto the key since the start would otherwise surface as missing
    /// parts.
    async fn check_mode(&self, blob: &str, key: &str, mode: &PutMode) -> Result<()> {
        if *mode == PutMode::Overwrite {
            return Ok(());
        }
        let what = format!("head {key:?}");
        let reply = self
            .client
            .send(Request::new(Method::HEAD, self.path(blob)), &what)
            .await?;
        let current = match reply.status {
            404 => None,
            _ => Some(quoted(reply.ok(&what)?.header("ETag").unwrap_or_default())),
        };
        match (mode, current) {
            (PutMode::Create, Some(_)) => Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("object {key:?} already exists"),
            )),
            (PutMode::Update { etag }, current) if current.as_ref() != Some(etag) => Err(
                Error::precondition(format!("object {key:?} has ETag {current:?}, not {etag:?}")),
            ),
            _ => Ok(()),
        }
    }

    /// The latest uncommitted block (id and size) of every part number of upload `id`.
    async fn latest_parts(&self, blob: &str, id: &str) -> Result<HashMap<u32, (String, u64)>> {
        let what = format!("list parts of upload {id:?}");
        let request = Request::new(Method::GET, self.path(blob))
            .query("comp", "blocklist")
            .query("blocklisttype", "uncommitted");
        let reply = self.client.send(request, &what).await?;
        if reply.status == 404 {
            return Ok(HashMap::new());
        }
        let reply = reply.ok(&what)?;
        let text = String::from_utf8_lossy(&reply.body);
        Ok(latest_blocks(&text, id))
    }
}

/// A new block id for part `number` of upload `id`: later uploads of a part sort after
/// earlier ones.
fn block_id(id: &str, number: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let random = uuid::Uuid::new_v4().as_u128() as u32;
    format!("{id}{number:05}{nanos:016x}{random:08x}")
}

/// The part number of a block id of upload `id`, if it is one.
fn part_of(block: &str, id: &str) -> Option<u32> {
    let rest = block.strip_prefix(id)?;
    if rest.len() != 5 + 16 + 8 {
        return None;
    }
    rest[..5].parse().ok()
}

/// The latest block per part number of upload `id` in a Get Block List answer.
fn latest_blocks(xml_text: &str, id: &str) -> HashMap<u32, (String, u64)> {
    let mut latest: HashMap<u32, (String, u64)> = HashMap::new();
    let uncommitted = xml::elements(xml_text, "UncommittedBlocks");
    for section in uncommitted {
        for block in xml::elements(section, "Block") {
            let name = xml::text(block, "Name")
                .and_then(|n| STANDARD.decode(n.trim()).ok())
                .and_then(|n| String::from_utf8(n).ok());
            let size = xml::text(block, "Size").and_then(|s| s.trim().parse::<u64>().ok());
            let (Some(name), Some(size)) = (name, size) else {
                continue;
            };
            let Some(number) = part_of(&name, id) else {
                continue;
            };
            match latest.get(&number) {
                Some((current, _)) if current.as_str() >= name.as_str() => {}
                _ => {
                    latest.insert(number, (name, size));
                }
            }
        }
    }
    latest
}

/// Checks the listed receipts against the latest blocks; returns the total size.
fn check_parts(
    parts: &[PartReceipt],
    latest: &HashMap<u32, (String, u64)>,
    max_bytes: u64,
) -> Result<u64> {
    let mut total = 0u64;
    for (i, part) in parts.iter().enumerate() {
        let n = part.part_number;
        let Some((block, size)) = latest.get(&n) else {
            return Err(Error::invalid(format!("part {n} was not uploaded")));
        };
        if *block != part.etag {
            return Err(Error::invalid(format!(
                "part {n} has ETag {block:?}, not {:?}",
                part.etag
            )));
        }
        if i + 1 < parts.len() && *size < MIN_MULTIPART_PART_BYTES as u64 {
            return Err(Error::invalid(format!(
                "part {n} has {size} bytes; every part but the last needs at least \
                 {MIN_MULTIPART_PART_BYTES}"
            )));
        }
        total += size;
    }
    if total > max_bytes {
        return Err(Error::invalid(format!(
            "the assembled object would have {total} bytes, more than {max_bytes}"
        )));
    }
    Ok(total)
}

/// The error of a refused Put Block List, refined by the mode's condition.
fn mode_error(reply: &Reply, mode: &PutMode, key: &str, what: &str) -> Error {
    let err = reply.error(what);
    match (mode, err.kind()) {
        (PutMode::Create, ErrorKind::PreconditionFailed | ErrorKind::AlreadyExists) => Error::new(
            ErrorKind::AlreadyExists,
            format!("object {key:?} already exists"),
        )
        .with_source(err),
        (PutMode::Update { etag }, ErrorKind::PreconditionFailed | ErrorKind::NotFound) => {
            Error::precondition(format!("object {key:?} is absent or not at ETag {etag:?}"))
                .with_source(err)
        }
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn listing(blocks: &[(&str, u64)]) -> String {
        let mut xml = String::from("<BlockList><UncommittedBlocks>");
        for (name, size) in blocks {
            xml.push_str(&format!(
                "<Block><Name>{}</Name><Size>{size}</Size></Block>",
                STANDARD.encode(name)
            ));
        }
        xml.push_str("</UncommittedBlocks></BlockList>");
        xml
    }

    #[test]
    fn block_ids_have_one_length_and_name_their_part() {
        let a = block_id(ID, 1);
        let b = block_id(ID, 10_000);
        assert_eq!(a.len(), 61);
        assert_eq!(b.len(), 61);
        assert_eq!(part_of(&a, ID), Some(1));
        assert_eq!(part_of(&b, ID), Some(10_000));
        assert_eq!(part_of(&a, "ffffffffffffffffffffffffffffffff"), None);
    }

    #[test]
    fn the_latest_block_of_a_part_wins_and_others_are_ignored() {
        let old = format!("{ID}00001{:016x}{:08x}", 5, 9);
        let new = format!("{ID}00001{:016x}{:08x}", 6, 0);
        let other = format!("{}00001{:016x}{:08x}", "f".repeat(32), 7, 0);
        let latest = latest_blocks(&listing(&[(&new, 3), (&old, 4), (&other, 5)]), ID);
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[&1], (new.clone(), 3));
        let receipt = |etag: &str| PartReceipt {
            part_number: 1,
            etag: etag.to_owned(),
        };
        assert_eq!(check_parts(&[receipt(&new)], &latest, 100).unwrap(), 3);
        let stale = check_parts(&[receipt(&old)], &latest, 100).unwrap_err();
        assert_eq!(stale.kind(), ErrorKind::InvalidArgument);
        let too_big = check_parts(&[receipt(&new)], &latest, 2).unwrap_err();
        assert_eq!(too_big.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn small_parts_are_refused_unless_last() {
        let one = format!("{ID}00001{:016x}{:08x}", 1, 0);
        let two = format!("{ID}00002{:016x}{:08x}", 1, 0);
        let latest = latest_blocks(&listing(&[(&one, 10), (&two, 10)]), ID);
        let parts = [
            PartReceipt {
                part_number: 1,
                etag: one,
            },
            PartReceipt {
                part_number: 2,
                etag: two,
            },
        ];
        let err = check_parts(&parts, &latest, u64::MAX).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert_eq!(check_parts(&parts[1..], &latest, u64::MAX).unwrap(), 10);
    }

    #[test]
    fn manifests_round_trip_their_mode() {
        let manifest = Manifest {
            blob: "s/k".into(),
            mode: "update".into(),
            etag: Some("\"0x1\"".into()),
            content_type: DEFAULT_CONTENT_TYPE.into(),
            metadata: BTreeMap::new(),
            started: 1,
        };
        let json = serde_json::to_vec(&manifest).unwrap();
        let back: Manifest = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            back.mode(),
            PutMode::Update {
                etag: "\"0x1\"".into()
            }
        );
    }
}
