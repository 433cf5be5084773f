//! Classification of `object_store` and raw S3 errors into stratus error kinds.

use stratus::{Error, ErrorKind};

use crate::common::kind_for_code;

/// The S3 error code in an XML error body (`<Code>NoSuchUpload</Code>`), if any.
pub fn xml_code(text: &str) -> Option<&str> {
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    Some(&text[start..start + len])
}

/// The stratus kind of an S3 error code, with codes only S3 uses added.
pub fn s3_kind(code: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" | "EntityTooLarge"
        | "InvalidRange" | "InvalidArgument" | "MalformedXML" => ErrorKind::InvalidArgument,
        _ => kind_for_code(code, status),
    }
}

/// The full text of an error and its sources.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Classifies an `object_store` error; `what` names the operation and key.
pub fn store_error(what: &str, err: object_store::Error) -> Error {
    let text = chain(&err);
    let kind = match stratus_objectstore::typed_kind(&err) {
        Some(kind) => kind,
        None => match xml_code(&text) {
            Some(code) => s3_kind(code, status_in(&text)),
            None => match status_in(&text) {
                Some(416) => ErrorKind::InvalidArgument,
                Some(status) => kind_for_code("", Some(status)),
                None if text.contains("error sending request")
                    || text.contains("connect")
                    || text.contains("timed out") =>
                {
                    ErrorKind::Unavailable
                }
                None => ErrorKind::Internal,
            },
        },
    };
    Error::new(kind, format!("{what}: {text}")).with_source(err)
}

/// The HTTP status `object_store` reports in its error text ("status code: 416").
fn status_in(text: &str) -> Option<u16> {
    let at = text.find("status code: ")? + "status code: ".len();
    text.get(at..at + 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_and_statuses() {
        assert_eq!(
            xml_code("<Error><Code>NoSuchUpload</Code></Error>"),
            Some("NoSuchUpload")
        );
        assert_eq!(xml_code("nothing"), None);
        assert_eq!(
            status_in("Server returned non-2xx status code: 416 Range Not Satisfiable"),
            Some(416)
        );
        assert_eq!(
            s3_kind("EntityTooSmall", Some(400)),
            ErrorKind::InvalidArgument
        );
        assert_eq!(s3_kind("NoSuchUpload", Some(404)), ErrorKind::NotFound);
    }
}
