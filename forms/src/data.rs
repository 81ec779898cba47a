//! Submitted data: urlencoded and multipart bodies, uploaded files.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http::header::CONTENT_TYPE;
use http_body::Body;
use http_body_util::{BodyDataStream, BodyExt, Limited};

use crate::Error;

/// What a form was sent: texts by name (a name may repeat, as a
/// multi-select's does) and uploaded files.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    values: BTreeMap<String, Vec<String>>,
    files: BTreeMap<String, Vec<UploadedFile>>,
}

impl FormData {
    /// No data.
    pub fn new() -> FormData {
        FormData::default()
    }

    /// Reads `a=1&b=2` (a body or a query string). Invalid percent-escapes
    /// and invalid UTF-8 are kept as the replacement character, as browsers
    /// and Django do.
    pub fn from_urlencoded(text: &[u8]) -> FormData {
        let mut data = FormData::new();
        for (name, value) in form_urlencoded::parse(text) {
            data.push(name, value);
        }
        data
    }

    /// Data from name-value pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> FormData {
        let mut data = FormData::new();
        for (name, value) in pairs {
            data.push(name, value);
        }
        data
    }

    /// Adds a value for `name` (after any earlier ones).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values
            .entry(name.into())
            .or_default()
            .push(value.into());
    }

    /// Adds an uploaded file for `name`.
    pub fn push_file(&mut self, name: impl Into<String>, file: UploadedFile) {
        self.files.entry(name.into()).or_default().push(file);
    }

    /// The first value sent for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values(name).first().map(String::as_str)
    }

    /// Every value sent for `name`, in order.
    pub fn values(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    /// The first file uploaded as `name`.
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.get(name).and_then(|f| f.first())
    }

    /// Whether anything (a value or a file) was sent as `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name) || self.files.contains_key(name)
    }

    /// The names sent, in sorted order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Reads a request's form body within `limits`: urlencoded, or
    /// multipart with each file streamed into a temporary file. Needs no
    /// async runtime.
    pub async fn from_request<B>(request: Request<B>, limits: &Limits) -> Result<FormData, Error>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        FormData::from_body(&parts.headers, body, limits).await
    }

    /// Like [`FormData::from_request`], from the request's headers and its
    /// body taken apart (a handler keeps the request to render a page with):
    /// `let body = std::mem::replace(request.body_mut(), Body::empty());`.
    pub async fn from_body<B>(
        headers: &http::HeaderMap,
        body: B,
        limits: &Limits,
    ) -> Result<FormData, Error>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/x-www-form-urlencoded" => {
                let bytes =
                    Limited::new(body, usize::try_from(limits.max_body).unwrap_or(usize::MAX))
                        .collect()
                        .await
                        .map_err(|e| body_error(e, limits.max_body))?
                        .to_bytes();
                let data = FormData::from_urlencoded(&bytes);
                limits.check_fields(data.values.values().map(Vec::len).sum())?;
                Ok(data)
            }
            "multipart/form-data" => read_multipart(body, &content_type, limits).await,
            _ => Err(Error::UnsupportedMediaType {
                content_type: if content_type.is_empty() {
                    "a body without a Content-Type".to_owned()
                } else {
                    content_type
                },
            }),
        }
    }
}

fn body_error(error: Box<dyn std::error::Error + Send + Sync>, limit: u64) -> Error {
    if error.is::<http_body_util::LengthLimitError>() {
        Error::TooLarge { limit }
    } else {
        Error::Malformed {
            message: format!("the body could not be read: {error}"),
        }
    }
}

async fn read_multipart<B>(body: B, content_type: &str, limits: &Limits) -> Result<FormData, Error>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let boundary = multer::parse_boundary(content_type).map_err(|_| Error::Malformed {
        message: "a multipart body needs a boundary in its Content-Type".to_owned(),
    })?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(limits.max_body)
            .per_field(limits.max_file.max(limits.max_field)),
    );
    let mut multipart =
        multer::Multipart::with_constraints(BodyDataStream::new(body), boundary, constraints);
    let mut data = FormData::new();
    let mut count = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        count += 1;
        limits.check_fields(count)?;
        let name = field.name().unwrap_or("").to_owned();
        match field.file_name().map(str::to_owned) {
            None => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    text.extend_from_slice(&chunk);
                    if text.len() as u64 > limits.max_field {
                        return Err(Error::TooLarge {
                            limit: limits.max_field,
                        });
                    }
                }
                data.push(name, String::from_utf8_lossy(&text).into_owned());
            }
            // A file input left empty sends a part with no file name.
            Some(file_name) if file_name.is_empty() => {
                while field.chunk().await.map_err(multipart_error)?.is_some() {}
            }
            Some(file_name) => {
                let content_type = field
                    .content_type()
                    .map_or("application/octet-stream".to_owned(), |m| m.to_string());
                let mut temp = match &limits.temp_dir {
                    Some(dir) => tempfile::NamedTempFile::new_in(dir),
                    None => tempfile::NamedTempFile::new(),
                }
                .map_err(Error::Io)?;
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    if size > limits.max_file {
                        return Err(Error::TooLarge {
                            limit: limits.max_file,
                        });
                    }
                    temp.write_all(&chunk).map_err(Error::Io)?;
                }
                temp.flush().map_err(Error::Io)?;
                data.push_file(
                    name,
                    UploadedFile {
                        file_name: clean_file_name(&file_name),
                        content_type,
                        size,
                        file: Arc::new(temp),
                    },
                );
            }
        }
    }
    Ok(data)
}

fn multipart_error(error: multer::Error) -> Error {
    match error {
        multer::Error::StreamSizeExceeded { limit }
        | multer::Error::FieldSizeExceeded { limit, .. } => Error::TooLarge { limit },
        other => Error::Malformed {
            message: format!("the multipart body is invalid: {other}"),
        },
    }
}

/// The last path segment of a browser-sent file name, without characters
/// that mean something to a file system.
fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "upload".to_owned()
    } else {
        cleaned
    }
}

/// How much a form body may carry.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The whole body, files included (default 10 MiB).
    pub max_body: u64,
    /// One text field of a multipart body (default 2.5 MB, Django's
    /// `DATA_UPLOAD_MAX_MEMORY_SIZE`).
    pub max_field: u64,
    /// One file (default 10 MiB).
    pub max_file: u64,
    /// How many fields (default 1,000, Django's
    /// `DATA_UPLOAD_MAX_NUMBER_FIELDS`).
    pub max_fields: usize,
    /// Where uploads are written while the request is handled (default:
    /// the system's temporary directory).
    pub temp_dir: Option<PathBuf>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 10 * 1024 * 1024,
            max_field: 2_621_440,
            max_file: 10 * 1024 * 1024,
            max_fields: 1000,
            temp_dir: None,
        }
    }
}

impl Limits {
    fn check_fields(&self, count: usize) -> Result<(), Error> {
        if count > self.max_fields {
            Err(Error::TooManyFields {
                limit: self.max_fields,
            })
        } else {
            Ok(())
        }
    }
}

/// A file uploaded with a multipart form, kept in a temporary file that is
/// removed when the last clone is dropped. Save it through a
/// [`Storage`](crate::Storage) to keep it.
#[derive(Clone)]
pub struct UploadedFile {
    /// The file's name as the browser sent it, without any directories.
    pub file_name: String,
    /// The content type the browser claimed (check the bytes before you trust it).
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    file: Arc<tempfile::NamedTempFile>,
}

impl fmt::Debug for UploadedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadedFile")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl PartialEq for UploadedFile {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path()
    }
}

impl UploadedFile {
    /// An uploaded file from bytes (for tests and for files made by code).
    pub fn from_bytes(
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> std::io::Result<UploadedFile> {
        let mut temp = tempfile::NamedTempFile::new()?;
        temp.write_all(bytes)?;
        temp.flush()?;
        Ok(UploadedFile {
            file_name: clean_file_name(file_name),
            content_type: content_type.to_owned(),
            size: bytes.len() as u64,
            file: Arc::new(temp),
        })
    }

    /// Where the upload is while the request is handled.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The whole file.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_keeps_repeated_names_in_order() {
        let data = FormData::from_urlencoded(b"tags=2&title=Hi+there&tags=1&bad=%FF%zz");
        assert_eq!(data.values("tags"), ["2", "1"]);
        assert_eq!(data.get("title"), Some("Hi there"));
        assert_eq!(data.get("bad"), Some("\u{fffd}%zz"));
        assert!(data.values("nothing").is_empty());
    }

    #[test]
    fn file_names_lose_their_directories() {
        for (sent, kept) in [
            ("photo.jpg", "photo.jpg"),
            ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
            ("../../etc/passwd", "passwd"),
            ("..", "upload"),
            (".htaccess", "htaccess"),
            ("a<b>.png", "ab.png"),
            ("", "upload"),
        ] {
            assert_eq!(clean_file_name(sent), kept, "{sent}");
        }
    }
}
