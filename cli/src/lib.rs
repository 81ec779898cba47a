//! The `tack` command's work, as functions: [`new_project`] writes a ready
//! project (Django's `startproject`), [`start_app`] adds an app module to
//! one (Django's `startapp`).
//!
//! A new project has settings from the environment, one model with its
//! first migration, templates, static files, sessions, CSRF, sign-in, the
//! admin mounted at `/admin/` and a test: `cargo run` serves it and
//! `cargo test` passes.
//!
//! ```
//! let parent = tempfile::tempdir().unwrap();
//! let dir = tack_cli::new_project("my-site", parent.path(), &tack_cli::Source::default()).unwrap();
//! let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
//! assert!(manifest.contains(r#"name = "my-site""#));
//! assert!(dir.join("migrations/0001_initial.json").exists());
//! ```

use std::path::{Path, PathBuf};

/// Where the new project takes Tack's crates from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A git repository (the default: Tack's own).
    Git(String),
    /// A checkout of the Tack workspace on this machine.
    Path(PathBuf),
}

impl Default for Source {
    fn default() -> Self {
        Source::Git(env!("CARGO_PKG_REPOSITORY").to_owned())
    }
}

/// What goes wrong, with what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The name cannot be a crate's, or a module's.
    #[error(
        "{name:?} cannot name a {what}: use lowercase letters, digits, `_`{dash}, starting with a letter, and not a Rust keyword"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// A project or an app.
        what: &'static str,
        /// Whether `-` is allowed.
        dash: &'static str,
    },
    /// The target exists: nothing is overwritten.
    #[error("{0} exists already: choose another name or remove it first")]
    Exists(PathBuf),
    /// The folder is not a project `tack new` made.
    #[error("{0} has no src/lib.rs: run `tack startapp` in a project made by `tack new`")]
    NotAProject(PathBuf),
    /// Writing a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The project's files: (path in the project, contents with placeholders).
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../template/Cargo.toml.tmpl")),
    (".gitignore", include_str!("../template/gitignore")),
    ("build.rs", include_str!("../template/build.rs")),
    ("src/lib.rs", include_str!("../template/src/lib.rs")),
    ("src/main.rs", include_str!("../template/src/main.rs")),
    ("src/models.rs", include_str!("../template/src/models.rs")),
    (
        "migrations/0001_initial.json",
        include_str!("../template/migrations/0001_initial.json"),
    ),
    (
        "templates/base.html",
        include_str!("../template/templates/base.html"),
    ),
    (
        "templates/index.html",
        include_str!("../template/templates/index.html"),
    ),
    (
        "templates/login.html",
        include_str!("../template/templates/login.html"),
    ),
    (
        "static/site.css",
        include_str!("../template/static/site.css"),
    ),
    ("tests/site.rs", include_str!("../template/tests/site.rs")),
];

/// Each Tack crate's folder in the workspace, for path dependencies.
const CRATE_FOLDERS: &[(&str, &str)] = &[
    ("tack-http", "http"),
    ("tack-routing", "routing"),
    ("tack-orm", "orm"),
    ("tack-templates", "templates"),
    ("tack-sessions", "sessions"),
    ("tack-security", "security"),
    ("tack-auth", "auth"),
    ("tack-forms", "forms"),
    ("tack-crud", "crud"),
    ("tack-admin", "admin"),
    ("tack-test", "testing"),
];

/// Writes the project `name` into `parent/name`, its Tack crates from
/// `source`; answers the project's folder. Refuses an invalid name or an
/// existing folder before writing anything.
pub fn new_project(name: &str, parent: &Path, source: &Source) -> Result<PathBuf, Error> {
    check_name(name, "project", true)?;
    let dir = parent.join(name);
    if dir.exists() {
        return Err(Error::Exists(dir));
    }
    let ident = name.replace('-', "_");
    for (path, template) in FILES {
        let text = template
            .replace("{{project}}", name)
            .replace("{{crate}}", &ident)
            .replace("{{app}}", &ident);
        let text = if *path == "Cargo.toml" {
            dependencies(&text, source)
        } else {
            text
        };
        write(&dir.join(path), &text)?;
    }
    Ok(dir)
}

/// The manifest with each `{{tack}}` replaced by where its line's crate
/// comes from.
fn dependencies(manifest: &str, source: &Source) -> String {
    manifest
        .lines()
        .map(|line| {
            if !line.contains("{{tack}}") {
                return line.to_owned();
            }
            let krate = line.split_whitespace().next().unwrap_or_default();
            let spec = match source {
                Source::Git(url) => format!("git = \"{url}\""),
                Source::Path(root) => {
                    let folder = CRATE_FOLDERS
                        .iter()
                        .find(|(name, _)| *name == krate)
                        .map_or(krate, |(_, folder)| folder);
                    format!(
                        "path = \"{}\"",
                        root.join(folder).display().to_string().replace('\\', "/")
                    )
                }
            };
            line.replace("{{tack}}", &spec)
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Adds the app `name` to the project at `project`: `src/{name}/mod.rs`
/// with an example model, and `pub mod {name};` in `src/lib.rs`. Answers
/// the files written; the app's models join the project once listed in
/// `models::all()` (as a Django app joins `INSTALLED_APPS`).
pub fn start_app(project: &Path, name: &str) -> Result<Vec<PathBuf>, Error> {
    check_name(name, "app", false)?;
    let lib = project.join("src/lib.rs");
    let lib_text =
        std::fs::read_to_string(&lib).map_err(|_| Error::NotAProject(project.to_owned()))?;
    let module = project.join("src").join(name);
    if module.exists() || project.join("src").join(format!("{name}.rs")).exists() {
        return Err(Error::Exists(module));
    }
    let app = app_label(&lib_text).unwrap_or(name);
    let model = name
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<String>();
    let file = module.join("mod.rs");
    write(
        &file,
        &include_str!("../template/app.rs")
            .replace("{{name}}", name)
            .replace("{{app}}", app)
            .replace("{{model}}", &model),
    )?;
    let declared = format!("{}\npub mod {name};\n", lib_text.trim_end());
    write(&lib, &declared)?;
    Ok(vec![file, lib])
}

/// The `APP` constant's value in a project's `lib.rs`.
fn app_label(lib: &str) -> Option<&str> {
    let line = lib
        .lines()
        .find(|line| line.starts_with("pub const APP: &str = "))?;
    line.split('"').nth(1)
}

fn check_name(name: &str, what: &'static str, dash: bool) -> Result<(), Error> {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
        "type", "unsafe", "use", "where", "while", "test", "tack", "std", "core",
    ];
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || (dash && c == '-')
        })
        && !KEYWORDS.contains(&name.replace('-', "_").as_str());
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.to_owned(),
            what,
            dash: if dash { " and `-`" } else { "" },
        })
    }
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    let fail = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}
