//! Reading form bodies: urlencoded, multipart with files streamed to
//! temporary files, and every limit.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{Full, StreamBody};
use tack_forms::{Error, Form, FormData, Limits, LocalStorage, Storage, UploadedFile};

/// A multipart body of text parts and file parts (`(name, file name, type, bytes)`).
fn multipart(texts: &[(&str, &str)], files: &[(&str, &str, &str, &[u8])]) -> Vec<u8> {
    tack_test::multipart(texts, files).1
}

/// The Content-Type of the bodies [`multipart`] makes.
fn multipart_type() -> String {
    tack_test::multipart(&[], &[]).0
}

fn request(content_type: &str, body: Vec<u8>) -> Request<tack_http::Body> {
    Request::post("/")
        .header("content-type", content_type)
        .body(tack_http::Body::new(Full::new(Bytes::from(body))))
        .unwrap()
}

fn multipart_request(body: Vec<u8>) -> Request<tack_http::Body> {
    request(&multipart_type(), body)
}

fn read(request: Request<tack_http::Body>, limits: &Limits) -> Result<FormData, Error> {
    futures_executor::block_on(FormData::from_request(request, limits))
}

#[derive(Debug, Form)]
struct Upload {
    #[form(max_length = 100)]
    title: String,
    cover: UploadedFile,
    attachment: Option<UploadedFile>,
}

#[test]
fn urlencoded_bodies() {
    let data = read(
        request(
            "application/x-www-form-urlencoded; charset=UTF-8",
            b"title=Hi&tags=1&tags=2".to_vec(),
        ),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(data.get("title"), Some("Hi"));
    assert_eq!(data.values("tags"), ["1", "2"]);
}

#[test]
fn a_file_is_streamed_to_a_temporary_file() {
    let png: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    let body = multipart(
        &[("title", "A cover"), ("csrfmiddlewaretoken", "tok")],
        &[
            ("cover", "C:\\photos\\cover.png", "image/png", &png),
            ("attachment", "", "application/octet-stream", b""),
        ],
    );
    // Sent in small chunks, as a network delivers it.
    let chunks: Vec<Result<http_body::Frame<Bytes>, std::io::Error>> = body
        .chunks(1000)
        .map(|c| Ok(http_body::Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    let request = Request::post("/")
        .header("content-type", multipart_type())
        .body(tack_http::Body::new(StreamBody::new(
            futures_util::stream::iter(chunks),
        )))
        .unwrap();
    let data = read(request, &Limits::default()).unwrap();
    assert_eq!(data.get("csrfmiddlewaretoken"), Some("tok"));
    assert!(
        data.file("attachment").is_none(),
        "an empty file input sends no file"
    );

    let upload = Upload::bind(&data).into_cleaned().expect("valid");
    assert_eq!(upload.title, "A cover");
    assert_eq!(upload.cover.file_name, "cover.png");
    assert_eq!(upload.cover.content_type, "image/png");
    assert_eq!(upload.cover.size, 200_000);
    assert_eq!(upload.cover.read().unwrap(), png);
    assert!(upload.attachment.is_none());

    let path = upload.cover.path().to_owned();
    assert!(path.exists());
    drop((upload, data));
    assert!(
        !path.exists(),
        "the temporary file goes with the last handle"
    );
}

#[test]
fn a_missing_file_is_an_error_beside_its_field() {
    let data = read(
        multipart_request(multipart(&[("title", "No cover")], &[])),
        &Limits::default(),
    )
    .unwrap();
    let form = Upload::bind(&data);
    assert_eq!(
        form.errors().field("cover"),
        ["No file was submitted. Check the encoding type on the form."]
    );
    // An urlencoded form cannot carry files: the same error, not a crash.
    let form = Upload::bind(&FormData::from_urlencoded(b"title=x&cover=cover.png"));
    assert!(!form.errors().field("cover").is_empty());
}

#[test]
fn limits_answer_with_their_status() {
    let small = Limits {
        max_body: 4096,
        max_file: 1000,
        max_field: 100,
        max_fields: 3,
        ..Limits::default()
    };
    let big_file = vec![b'x'; 2000];
    let cases: Vec<(Request<tack_http::Body>, StatusCode, &str)> = vec![
        (
            multipart_request(multipart(
                &[("title", "t")],
                &[("cover", "a.bin", "application/octet-stream", &big_file)],
            )),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than 1000 bytes",
        ),
        (
            multipart_request(multipart(&[("title", "y".repeat(200).as_str())], &[])),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than 100 bytes",
        ),
        (
            multipart_request(multipart(&[("title", "y".repeat(90).as_str()); 60], &[])),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than 4096 bytes",
        ),
        (
            multipart_request(multipart(
                &[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")],
                &[],
            )),
            StatusCode::BAD_REQUEST,
            "more than 3 form fields",
        ),
        (
            request(
                "application/x-www-form-urlencoded",
                b"a=1&b=2&c=3&d=4".to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "more than 3 form fields",
        ),
        (
            request("application/x-www-form-urlencoded", vec![b'a'; 5000]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than 4096 bytes",
        ),
        (
            request("application/json", b"{}".to_vec()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not application/json",
        ),
        (
            request("multipart/form-data", multipart(&[], &[])),
            StatusCode::BAD_REQUEST,
            "needs a boundary",
        ),
        (
            multipart_request(b"--nonsense".to_vec()),
            StatusCode::BAD_REQUEST,
            "the multipart body is invalid",
        ),
    ];
    for (request, status, message) in cases {
        let error = read(request, &small).expect_err(message);
        assert_eq!(error.status(), status, "{error}");
        assert!(
            error.to_string().contains(message),
            "{error} should say {message}"
        );
    }
    let no_type = Request::post("/").body(tack_http::Body::empty()).unwrap();
    let error = read(no_type, &small).unwrap_err();
    assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(error.to_string().contains("a body without a Content-Type"));
}

#[test]
fn uploads_are_kept_through_a_storage() {
    let dir = tempfile::tempdir().unwrap();
    let storage = LocalStorage::new(dir.path(), "/media/");
    let data = read(
        multipart_request(multipart(
            &[("title", "t")],
            &[("cover", "../../evil.png", "image/png", b"\x89PNG")],
        )),
        &Limits::default(),
    )
    .unwrap();
    let upload = Upload::bind(&data).into_cleaned().unwrap();
    let name = storage
        .save(&format!("covers/{}", upload.cover.file_name), &upload.cover)
        .unwrap();
    assert_eq!(name, "covers/evil.png");
    assert_eq!(std::fs::read(dir.path().join(&name)).unwrap(), b"\x89PNG");
    assert_eq!(storage.url(&name), "/media/covers/evil.png");
}
