//! Settings from the environment, each with a default that works on a fresh machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything the newsroom reads from its environment.
#[derive(Clone)]
pub struct Settings {
    /// `NEWSROOM_ADDR`: where to listen.
    pub addr: SocketAddr,
    /// `DATABASE_URL`: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    pub database_url: String,
    /// `NEWSROOM_SECRET_KEY`, or the key stored beside the database.
    pub secret_key: String,
    /// `NEWSROOM_DEBUG=1`: detailed error pages and insecure cookies allowed.
    pub debug: bool,
    /// Hosts this server answers for (`NEWSROOM_ALLOWED_HOSTS`, comma separated).
    pub allowed_hosts: Vec<String>,
    /// `NEWSROOM_MEDIA_ROOT`: where uploads (cover images) are kept, served
    /// at `/media/`; by default a `media` folder beside a SQLite file, else
    /// in the working directory.
    pub media_root: PathBuf,
    /// `NEWSROOM_HTTPS_ONLY=1`: the site is served over HTTPS only; cookies
    /// are always `Secure` and plain-HTTP requests are redirected to HTTPS.
    /// Off, cookies are `Secure` when the request came over HTTPS.
    pub https_only: bool,
    /// `NEWSROOM_TRUSTED_PROXIES`: the reverse proxies in front (addresses
    /// or networks, comma separated) whose `X-Forwarded-For` and HTTPS
    /// header are believed.
    pub trusted_proxies: Vec<String>,
    /// `NEWSROOM_PROXY_SSL_HEADER`: the header by which a trusted proxy
    /// says the request came over HTTPS (`X-Forwarded-Proto: https`),
    /// Django's `SECURE_PROXY_SSL_HEADER`.
    pub proxy_ssl_header: Option<String>,
    /// `NEWSROOM_SHUTDOWN_TIMEOUT`: seconds in-flight requests get to
    /// finish after SIGTERM or Ctrl-C (default 30).
    pub shutdown_timeout: std::time::Duration,
    /// `NEWSROOM_CHANNEL_LAYER`: what carries live-comment broadcasts
    /// between processes.
    pub channel_layer: ChannelLayerSetting,
}

/// Where websocket broadcasts travel (`NEWSROOM_CHANNEL_LAYER`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelLayerSetting {
    /// `memory`: this process only (the default on SQLite).
    Memory,
    /// `postgres` (the database's own server, the default on PostgreSQL)
    /// or a `postgres://` URL: LISTEN/NOTIFY.
    Postgres(String),
    /// A `redis://` or `rediss://` URL: Redis pub/sub.
    Redis(String),
}

impl ChannelLayerSetting {
    /// Reads `value` (`None`: unset) for a server on `database_url`.
    fn parse(value: Option<&str>, database_url: &str) -> Result<Self, SettingsError> {
        let on_postgres = is_postgres(database_url);
        match value.map(str::trim) {
            None | Some("") if on_postgres => Ok(Self::Postgres(database_url.to_owned())),
            None | Some("") | Some("memory") => Ok(Self::Memory),
            Some("postgres") if on_postgres => Ok(Self::Postgres(database_url.to_owned())),
            Some(url) if is_postgres(url) => Ok(Self::Postgres(url.to_owned())),
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Ok(Self::Redis(url.to_owned()))
            }
            Some(value) => Err(SettingsError::ChannelLayer {
                value: value.to_owned(),
            }),
        }
    }
}

/// Names the layer for the log, without a password.
impl std::fmt::Display for ChannelLayerSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, url) = match self {
            Self::Memory => return f.write_str("memory (this process only)"),
            Self::Postgres(url) => ("PostgreSQL LISTEN/NOTIFY", url),
            Self::Redis(url) => ("Redis pub/sub", url),
        };
        // The part after the scheme and any user:password@.
        let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        let host = host.split(['/', '?']).next().unwrap_or_default();
        write!(f, "{kind} on {host}")
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("addr", &self.addr)
            .field("database_url", &self.database_url)
            .field("secret_key", &"***")
            .field("debug", &self.debug)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("media_root", &self.media_root)
            .field("https_only", &self.https_only)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("proxy_ssl_header", &self.proxy_ssl_header)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("channel_layer", &self.channel_layer)
            .finish()
    }
}

/// A setting that could not be read, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `NEWSROOM_ADDR` is not an address.
    #[error("NEWSROOM_ADDR={value:?} is not a socket address; use something like 127.0.0.1:8000")]
    Addr {
        /// The value given.
        value: String,
    },
    /// `NEWSROOM_SHUTDOWN_TIMEOUT` is not a number of seconds.
    #[error(
        "NEWSROOM_SHUTDOWN_TIMEOUT={value:?} is not a number of seconds; use something like 30"
    )]
    ShutdownTimeout {
        /// The value given.
        value: String,
    },
    /// `NEWSROOM_CHANNEL_LAYER` names no channel layer.
    #[error(
        "NEWSROOM_CHANNEL_LAYER={value:?} is not a channel layer; use memory, \
         postgres (the database's server, when DATABASE_URL is PostgreSQL), \
         a postgres:// URL or a redis:// URL"
    )]
    ChannelLayer {
        /// The value given.
        value: String,
    },
    /// The secret key file could not be read or written.
    #[error(
        "cannot read or create the secret key file {path}: {source}; set NEWSROOM_SECRET_KEY instead"
    )]
    SecretKeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let addr_text = lookup("NEWSROOM_ADDR").unwrap_or_else(|| "127.0.0.1:8000".to_owned());
        let addr = addr_text.parse().map_err(|_| SettingsError::Addr {
            value: addr_text.clone(),
        })?;
        let database_url =
            lookup("DATABASE_URL").unwrap_or_else(|| "sqlite://newsroom.sqlite3".to_owned());
        let flag = |name| matches!(lookup(name).as_deref(), Some("1" | "true" | "yes"));
        let debug = flag("NEWSROOM_DEBUG");
        let https_only = flag("NEWSROOM_HTTPS_ONLY");
        let proxy_ssl_header = lookup("NEWSROOM_PROXY_SSL_HEADER").filter(|h| !h.trim().is_empty());
        let secret_key = match lookup("NEWSROOM_SECRET_KEY") {
            Some(key) if !key.is_empty() => key,
            _ => stored_secret_key(&secret_key_path(&database_url))?,
        };
        let media_root = lookup("NEWSROOM_MEDIA_ROOT")
            .filter(|root| !root.is_empty())
            .map_or_else(|| default_media_root(&database_url), PathBuf::from);
        let list = |name| {
            lookup(name).map(|items: String| {
                items
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<String>>()
            })
        };
        let trusted_proxies = list("NEWSROOM_TRUSTED_PROXIES").unwrap_or_default();
        let shutdown_timeout = match lookup("NEWSROOM_SHUTDOWN_TIMEOUT") {
            None => std::time::Duration::from_secs(30),
            Some(value) => value
                .trim()
                .parse::<u64>()
                .map(std::time::Duration::from_secs)
                .map_err(|_| SettingsError::ShutdownTimeout { value })?,
        };
        let channel_layer =
            ChannelLayerSetting::parse(lookup("NEWSROOM_CHANNEL_LAYER").as_deref(), &database_url)?;
        let allowed_hosts = list("NEWSROOM_ALLOWED_HOSTS").unwrap_or_else(|| {
            vec![
                "127.0.0.1".to_owned(),
                "localhost".to_owned(),
                "[::1]".to_owned(),
            ]
        });
        Ok(Settings {
            addr,
            database_url,
            secret_key,
            debug,
            allowed_hosts,
            media_root,
            https_only,
            trusted_proxies,
            proxy_ssl_header,
            shutdown_timeout,
            channel_layer,
        })
    }
}

/// Where uploads live unless told: beside a SQLite file, else in the working directory.
fn default_media_root(database_url: &str) -> PathBuf {
    match database_url.strip_prefix("sqlite://") {
        Some(file) => Path::new(file).with_file_name("media"),
        None => PathBuf::from("media"),
    }
}

/// Where the generated key lives: beside a SQLite file, else in the working directory.
fn secret_key_path(database_url: &str) -> PathBuf {
    match database_url.strip_prefix("sqlite://") {
        Some(file) => {
            let file = Path::new(file);
            let stem = file
                .file_stem()
                .map_or_else(|| "newsroom".into(), |s| s.to_os_string());
            let mut name = stem;
            name.push(".secret-key");
            file.with_file_name(name)
        }
        None => PathBuf::from("newsroom.secret-key"),
    }
}

/// Reads the key stored at `path`, creating a random one on first use.
fn stored_secret_key(path: &Path) -> Result<String, SettingsError> {
    let fail = |source| SettingsError::SecretKeyFile {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(key) if !key.trim().is_empty() => return Ok(key.trim().to_owned()),
        // An empty file (a crash before the key was written): make it again.
        Ok(_) => std::fs::remove_file(path).map_err(fail)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(fail(error)),
    }
    let key: String = (0..50).map(|_| random_key_char()).collect();
    match create_private(path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, key.as_bytes()).map_err(fail)?;
            file.sync_all().map_err(fail)?;
            Ok(key)
        }
        // Another process made it first: use its key.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let key = std::fs::read_to_string(path).map_err(fail)?;
            match key.trim() {
                "" => Err(fail(std::io::Error::other("the file is empty"))),
                key => Ok(key.to_owned()),
            }
        }
        Err(error) => Err(fail(error)),
    }
}

/// Creates `path`, failing if it exists, readable by its owner only.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn random_key_char() -> char {
    const ALPHABET: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#%^&*(-_=+)";
    ALPHABET[rand::random_range(0..ALPHABET.len())] as char
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_work_without_environment() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("n.sqlite3").display());
        let first = settings(&[("DATABASE_URL", &url)]).unwrap();
        assert_eq!(first.addr.to_string(), "127.0.0.1:8000");
        assert!(!first.debug);
        assert_eq!(first.secret_key.len(), 50);
        // The generated key is stored beside the database and reused.
        assert!(dir.path().join("n.secret-key").exists());
        let second = settings(&[("DATABASE_URL", &url)]).unwrap();
        assert_eq!(first.secret_key, second.secret_key);
    }

    #[cfg(unix)]
    #[test]
    fn generated_key_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("n.sqlite3").display());
        settings(&[("DATABASE_URL", &url)]).unwrap();
        let mode = std::fs::metadata(dir.path().join("n.secret-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }

    #[test]
    fn bad_address_says_what_to_use() {
        let error = settings(&[("NEWSROOM_ADDR", "nope"), ("NEWSROOM_SECRET_KEY", "k")])
            .err()
            .unwrap();
        assert!(error.to_string().contains("127.0.0.1:8000"), "{error}");
    }

    #[test]
    fn the_channel_layer_follows_the_database_unless_named() {
        let layer =
            |value: Option<&str>, database: &str| ChannelLayerSetting::parse(value, database);
        let pg = "postgres://news@db/news";
        assert_eq!(
            layer(None, "sqlite://n.sqlite3").unwrap(),
            ChannelLayerSetting::Memory
        );
        assert_eq!(
            layer(None, pg).unwrap(),
            ChannelLayerSetting::Postgres(pg.into())
        );
        assert_eq!(
            layer(Some("postgres"), pg).unwrap(),
            ChannelLayerSetting::Postgres(pg.into())
        );
        assert_eq!(
            layer(Some("memory"), pg).unwrap(),
            ChannelLayerSetting::Memory
        );
        assert_eq!(
            layer(Some("redis://cache:6379/0"), pg).unwrap(),
            ChannelLayerSetting::Redis("redis://cache:6379/0".into())
        );
        assert_eq!(
            layer(Some("postgresql://other/x"), "sqlite://n.sqlite3").unwrap(),
            ChannelLayerSetting::Postgres("postgresql://other/x".into())
        );
        assert_eq!(
            layer(Some("redis://:secret@cache:6379/0"), pg)
                .unwrap()
                .to_string(),
            "Redis pub/sub on cache:6379"
        );
        // "postgres" on SQLite names no server; a typo is not taken for memory.
        for value in ["postgres", "redis", "rabbit://x"] {
            let error = layer(Some(value), "sqlite://n.sqlite3").unwrap_err();
            assert!(error.to_string().contains("redis:// URL"), "{error}");
        }
    }

    #[test]
    fn debug_never_prints_the_key() {
        let s = settings(&[
            ("NEWSROOM_SECRET_KEY", "hunter2-hunter2"),
            ("NEWSROOM_DEBUG", "1"),
        ])
        .unwrap();
        assert!(s.debug);
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
