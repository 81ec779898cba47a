//! Where uploaded files are kept.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::data::UploadedFile;

/// A place to keep uploaded files (Django's `Storage`): a local directory
/// here, an object store in a project of its own.
pub trait Storage: Send + Sync {
    /// Keeps `file` under a name derived from `name` (a free one: an
    /// existing file is never overwritten) and answers the name kept.
    fn save(&self, name: &str, file: &UploadedFile) -> Result<String, Error>;

    /// Removes a kept file; a missing one is not an error.
    fn delete(&self, name: &str) -> Result<(), Error>;

    /// The URL the file is served at.
    fn url(&self, name: &str) -> String;
}

/// Files in a local directory, served under a URL prefix (Django's
/// `FileSystemStorage` with `MEDIA_ROOT` and `MEDIA_URL`).
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
    url: String,
}

impl LocalStorage {
    /// Files under `root`, served at `url` (`/media/`).
    pub fn new(root: impl Into<PathBuf>, url: impl Into<String>) -> LocalStorage {
        let mut url = url.into();
        if !url.ends_with('/') {
            url.push('/');
        }
        LocalStorage {
            root: root.into(),
            url,
        }
    }

    /// The directory files are kept in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, name: &str) -> Result<PathBuf, Error> {
        let mut path = self.root.clone();
        for segment in name.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." || segment.contains('\\') {
                return Err(Error::Storage {
                    name: name.to_owned(),
                    message: "a stored name is relative segments without `..`".to_owned(),
                });
            }
            path.push(segment);
        }
        Ok(path)
    }
}

impl Storage for LocalStorage {
    fn save(&self, name: &str, file: &UploadedFile) -> Result<String, Error> {
        let (stem, extension) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && !ext.contains('/') => {
                (stem, format!(".{ext}"))
            }
            _ => (name, String::new()),
        };
        for attempt in 0..100u32 {
            let candidate = if attempt == 0 {
                name.to_owned()
            } else {
                format!("{stem}_{attempt}{extension}")
            };
            let path = self.path(&candidate)?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(Error::Io)?;
            }
            // create_new: never overwrite, even against a racing upload.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut target) => {
                    let mut source = std::fs::File::open(file.path()).map_err(Error::Io)?;
                    std::io::copy(&mut source, &mut target).map_err(Error::Io)?;
                    return Ok(candidate);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(Error::Io(error)),
            }
        }
        Err(Error::Storage {
            name: name.to_owned(),
            message: "no free name after 100 tries".to_owned(),
        })
    }

    fn delete(&self, name: &str) -> Result<(), Error> {
        match std::fs::remove_file(self.path(name)?) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(Error::Io(error)),
            _ => Ok(()),
        }
    }

    fn url(&self, name: &str) -> String {
        let encoded: Vec<String> = name
            .split('/')
            .map(|s| {
                form_urlencoded::byte_serialize(s.as_bytes())
                    .collect::<String>()
                    .replace('+', "%20")
            })
            .collect();
        format!("{}{}", self.url, encoded.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_never_overwrite_and_refuse_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path(), "/media");
        let file = UploadedFile::from_bytes("a.txt", "text/plain", b"one").unwrap();
        assert_eq!(storage.save("covers/a.txt", &file).unwrap(), "covers/a.txt");
        assert_eq!(
            storage.save("covers/a.txt", &file).unwrap(),
            "covers/a_1.txt"
        );
        assert_eq!(
            std::fs::read(dir.path().join("covers/a_1.txt")).unwrap(),
            b"one"
        );
        assert!(storage.save("../x.txt", &file).is_err());
        assert_eq!(storage.url("covers/a b.txt"), "/media/covers/a%20b.txt");
        storage.delete("covers/a.txt").unwrap();
        storage.delete("covers/a.txt").unwrap();
        assert!(!dir.path().join("covers/a.txt").exists());
    }
}
