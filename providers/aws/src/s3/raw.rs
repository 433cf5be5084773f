//! The two S3 requests `object_store` has no public API for, sent as SigV4-presigned
//! requests (the signer `object_store` already has) over `reqwest` (already in the graph):
//! CreateBucket, and CompleteMultipartUpload with explicit part numbers and a
//! condition header.

use std::time::Duration;

use http::Method;
use object_store::aws::AmazonS3;
use object_store::path::Path;
use object_store::signer::Signer;
use stratus::blob::PartReceipt;
use stratus::{Error, ErrorKind, Result};

use super::errors::{s3_kind, store_error, xml_code};

/// How long a presigned internal request stays valid (it is sent at once).
const SIGNED_FOR: Duration = Duration::from_secs(300);

/// A condition on CompleteMultipartUpload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// No condition.
    None,
    /// `If-None-Match: *` (the key must not exist).
    Absent,
    /// `If-Match: etag` (the key must have this ETag).
    Matches(String),
}

fn http_client() -> reqwest::Client {
    reqwest::Client::new()
}

fn unavailable(what: &str, err: reqwest::Error) -> Error {
    Error::new(ErrorKind::Unavailable, format!("{what}: {err}")).with_source(err)
}

/// Creates the client's bucket; an existing bucket owned by the caller is fine.
pub async fn create_bucket(client: &AmazonS3, region: &str) -> Result<()> {
    let url = client
        .signed_url(Method::PUT, &Path::default(), SIGNED_FOR)
        .await
        .map_err(|e| store_error("signing CreateBucket", e))?;
    // An explicit (possibly empty) body, so the request carries a Content-Length.
    let body = if region == "us-east-1" {
        String::new()
    } else {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        )
    };
    let request = http_client()
        .put(url.as_str())
        .header("content-length", body.len())
        .body(body);
    let response = request
        .send()
        .await
        .map_err(|e| unavailable("CreateBucket", e))?;
    let status = response.status().as_u16();
    let body = response
        .text()
        .await
        .map_err(|e| unavailable("CreateBucket", e))?;
    if (200..300).contains(&status) {
        return Ok(());
    }
    match xml_code(&body) {
        Some("BucketAlreadyOwnedByYou") => Ok(()),
        code => Err(Error::new(
            s3_kind(code.unwrap_or(""), Some(status)),
            format!("CreateBucket: HTTP {status}: {body}"),
        )),
    }
}

/// Completes upload `upload_id` of `path` from `parts` (explicit part numbers), under
/// `condition`. A 412 is returned as `PreconditionFailed` for the caller to refine.
pub async fn complete_multipart(
    client: &AmazonS3,
    path: &Path,
    upload_id: &str,
    parts: &[PartReceipt],
    condition: &Condition,
) -> Result<()> {
    let options = object_store::signer::SignedUrlOptions::new()
        .with_query([("uploadId".to_owned(), upload_id.to_owned())]);
    let url = client
        .signed_url_opts(Method::POST, path, SIGNED_FOR, &options)
        .await
        .map_err(|e| store_error("signing CompleteMultipartUpload", e))?;
    let mut body = String::from("<CompleteMultipartUpload>");
    for part in parts {
        body.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
            part.part_number,
            xml_escape(&part.etag)
        ));
    }
    body.push_str("</CompleteMultipartUpload>");
    let mut request = http_client()
        .post(url.as_str())
        .header("content-type", "application/xml")
        .body(body);
    request = match condition {
        Condition::None => request,
        Condition::Absent => request.header("if-none-match", "*"),
        Condition::Matches(etag) => request.header("if-match", etag.as_str()),
    };
    let what = format!("CompleteMultipartUpload {path}");
    let response = request.send().await.map_err(|e| unavailable(&what, e))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| unavailable(&what, e))?;
    // S3 may answer 200 with an error document once the request has started.
    if (200..300).contains(&status) && !text.contains("<Error>") {
        return Ok(());
    }
    let code = xml_code(&text).unwrap_or("");
    Err(Error::new(
        s3_kind(code, Some(status)),
        format!("{what}: HTTP {status}: {code}: {text}"),
    ))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One uploaded part as ListParts reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    /// Part number.
    pub number: u32,
    /// The part's ETag.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
}

/// The parts of upload `upload_id` of `path` (ListParts, every page). An unknown,
/// aborted or completed upload is `NotFound`.
pub async fn list_parts(
    client: &AmazonS3,
    path: &Path,
    upload_id: &str,
) -> Result<Vec<UploadedPart>> {
    let what = format!("ListParts {path}");
    let mut parts = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut query = vec![("uploadId".to_owned(), upload_id.to_owned())];
        if let Some(m) = &marker {
            query.push(("part-number-marker".to_owned(), m.clone()));
        }
        let options = object_store::signer::SignedUrlOptions::new().with_query(query);
        let url = client
            .signed_url_opts(Method::GET, path, SIGNED_FOR, &options)
            .await
            .map_err(|e| store_error("signing ListParts", e))?;
        let response = http_client()
            .get(url.as_str())
            .send()
            .await
            .map_err(|e| unavailable(&what, e))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| unavailable(&what, e))?;
        if !(200..300).contains(&status) {
            let code = xml_code(&text).unwrap_or("");
            return Err(Error::new(
                s3_kind(code, Some(status)),
                format!("{what}: HTTP {status}: {code}"),
            ));
        }
        for block in text.split("<Part>").skip(1) {
            let block = block.split("</Part>").next().unwrap_or("");
            let number = tag(block, "PartNumber").and_then(|n| n.parse().ok());
            let size = tag(block, "Size").and_then(|n| n.parse().ok());
            let etag = tag(block, "ETag").map(xml_unescape);
            if let (Some(number), Some(size), Some(etag)) = (number, size, etag) {
                parts.push(UploadedPart { number, etag, size });
            }
        }
        if tag(&text, "IsTruncated") != Some("true") {
            return Ok(parts);
        }
        match tag(&text, "NextPartNumberMarker") {
            Some(next) if marker.as_deref() != Some(next) => marker = Some(next.to_owned()),
            _ => return Ok(parts),
        }
    }
}

/// The text of the first `<name>…</name>` in `xml`.
fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + len])
}

fn xml_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}
