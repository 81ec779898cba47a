//! The blog that `examples/axum-blog` and `examples/actix-blog` serve, each
//! through its own framework: the model and its migrations (tack-orm), the
//! pages' templates (tack-templates), the admin site (tack-admin) and the
//! read-only posts API (tack-crud). Nothing here knows about axum or
//! actix-web.

use chrono::{DateTime, Utc};
use tack_admin::{AdminSite, ModelAdmin};
use tack_auth::guard::{Guard, GuardLayer};
use tack_auth::{Password, User};
use tack_crud::Crud;
use tack_orm::migrations::{self, AppMigrations, Migrations};
use tack_orm::prelude::*;
use tack_orm::{AsyncDatabase, Database};
use tack_security::CsrfToken;
use tack_sessions::Messages;
use tack_templates::{Templates, Value, context};
use tower::Layer;

#[cfg(feature = "scenario")]
pub mod scenario;

/// A blog post.
#[derive(Model, Clone, Debug)]
#[tack(app = "blog", display = "{title}")]
pub struct Post {
    /// Primary key.
    pub id: i64,
    /// The headline.
    #[tack(max_length = 200)]
    pub title: String,
    /// The post's address: `/posts/{slug}/`.
    #[tack(unique, max_length = 100, slug)]
    pub slug: String,
    /// The text.
    pub body: String,
    /// Whether readers see it.
    pub published: bool,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// The blog's migrations (`migrations/`), compiled in.
pub static MIGRATIONS: &[(&str, &str)] = migrations::embed_migrations!("migrations");

/// The blog's app label.
pub const APP: &str = "blog";

/// The tables the batteries bring: users and permissions, sessions.
pub const BATTERIES: &[AppMigrations] = &[tack_auth::MIGRATIONS, tack_sessions::MIGRATIONS];

/// Where the migration files live in the source tree (for `makemigrations`).
pub const MIGRATIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// The development key the examples sign with unless told another.
pub const DEVELOPMENT_KEY: &str = "blog-development-key-change-me-0123456789abcdef";

/// Every model: the batteries' and the blog's.
pub fn models() -> Vec<&'static tack_orm::ModelMeta> {
    let mut models = tack_auth::models::all();
    models.extend(tack_sessions::models());
    models.push(Post::meta());
    models
}

/// The blog's migrations with the batteries'.
pub fn migration_set() -> tack_orm::Result<Migrations> {
    let mut set = Migrations::from_embedded(MIGRATIONS)?.labelled(APP)?;
    for battery in BATTERIES {
        set = set.with(*battery)?;
    }
    Ok(set)
}

/// The migration commands (`makemigrations`, `migrate`, `showmigrations`,
/// ...) on the database at `url`: what each example's binary runs when it
/// gets arguments. Answers the text to print.
pub fn migration_command(url: &str, args: &[String]) -> tack_orm::Result<Option<String>> {
    let models = models();
    let project = migrations::Project {
        app: APP,
        models: &models,
        folder: std::path::Path::new(MIGRATIONS_DIR),
        embedded: MIGRATIONS,
        batteries: BATTERIES,
    };
    migrations::run_command(&project, || Database::connect(url), args)
}

/// What an example's binary starts with, from the environment:
/// `BLOG_DATABASE_URL` (default `sqlite://{name}.sqlite3`), `BLOG_SECRET_KEY`
/// (default [`DEVELOPMENT_KEY`]), `BLOG_ADDR` (default `default_addr`) and
/// `BLOG_SUPERUSER=name:password` (a superuser created on start).
#[derive(Debug)]
pub struct Started {
    /// The migrated database.
    pub db: Database,
    /// The signing key.
    pub secret: String,
    /// Where to listen.
    pub addr: String,
}

/// Starts an example's binary `name`: with arguments, runs the migration
/// command they name and answers `None`; else opens and migrates the
/// database, creates the superuser if asked, and answers what to serve.
pub fn start(name: &str, default_addr: &str) -> Result<Option<Started>, String> {
    let url =
        std::env::var("BLOG_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{name}.sqlite3"));
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        if let Some(text) = migration_command(&url, &args).map_err(|e| e.to_string())? {
            println!("{text}");
        }
        return Ok(None);
    }
    let db = open(&url).map_err(|e| e.to_string())?;
    if let Ok(superuser) = std::env::var("BLOG_SUPERUSER") {
        let (username, password) = superuser
            .split_once(':')
            .ok_or("BLOG_SUPERUSER is name:password")?;
        create_superuser(&db, username, password).map_err(|e| e.to_string())?;
    }
    Ok(Some(Started {
        db,
        // A development key: a deployment sets its own.
        secret: std::env::var("BLOG_SECRET_KEY").unwrap_or_else(|_| DEVELOPMENT_KEY.to_owned()),
        addr: std::env::var("BLOG_ADDR").unwrap_or_else(|_| default_addr.to_owned()),
    }))
}

/// Why the blog could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] tack_orm::Error),
    /// The models' permissions could not be created.
    #[error("permissions: {0}")]
    Permissions(#[from] tack_auth::Error),
    /// A template does not compile.
    #[error(transparent)]
    Templates(#[from] tack_templates::Error),
}

/// Opens `url` and applies the migrations (its own and the batteries'),
/// refusing models ahead of them; creates the models' permissions.
pub fn open(url: &str) -> Result<Database, StartError> {
    let db = Database::connect(url)?;
    let set = migration_set()?;
    migrations::migrate(&db, &set, None)?;
    migrations::check(&db, &models(), &set)?.into_result()?;
    tack_auth::ensure_permissions(&db, &models())?;
    Ok(db)
}

/// Creates a staff superuser `username` with `password` (checked by the
/// password validators).
pub fn create_superuser(
    db: &Database,
    username: &str,
    password: &str,
) -> Result<(), tack_auth::Error> {
    let user = tack_auth::create_superuser(
        username,
        "",
        &Password::new(password),
        &tack_auth::Validators::default(),
        &tack_auth::PasswordHasher::new(),
    )?;
    tack_auth::db::insert_user(db, user)?;
    Ok(())
}

const PAGES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("post.html", include_str!("../templates/post.html")),
    ("login.html", include_str!("../templates/login.html")),
];

/// The blog's pages and the admin's, CRUD's and forms' templates; the
/// admin's forms read the CSRF token from the request.
pub fn templates() -> Result<Templates, StartError> {
    Ok(Templates::builder()
        .add_embedded(PAGES)
        .add_embedded(tack_admin::TEMPLATES)
        .add_embedded(tack_crud::TEMPLATES)
        .add_embedded(tack_forms::TEMPLATES)
        .configure(|env| tack_forms::install(env))
        .context_processor("csrf_token", |request| {
            Some(Value::from(
                request.extensions().get::<CsrfToken>()?.masked(),
            ))
        })
        .build()?)
}

/// The admin at `/admin/` for staff (others are sent to `/login/`).
pub fn admin_site(db: AsyncDatabase, templates: Templates) -> Guard<AdminSite, User> {
    let site = AdminSite::new("Blog administration", "/admin/", db, templates).register::<Post>(
        ModelAdmin::new()
            .list_display(&["title", "published", "created_at"])
            // The creation time is set on save, as Django's auto_now_add.
            .fields(&["title", "slug", "body", "published"])
            .crud(|crud| {
                crud.search_fields(&["title", "body"])
                    .before_create(|_, _, post: &mut Post| {
                        post.created_at = Utc::now();
                        Ok(())
                    })
            }),
    );
    GuardLayer::<User>::staff_required("/login/").layer(site)
}

/// The read-only API of published posts at `/api/posts/` (mounted so that
/// it sees the path under its prefix).
pub fn posts_api(db: AsyncDatabase) -> Crud<Post> {
    Crud::<Post>::new(db)
        .fields(&["id", "title", "slug", "body", "created_at"])
        .base_path("/api/posts/")
        .scope(|_, posts| posts.filter(Post::PUBLISHED.eq(true)))
        .search_fields(&["title", "body"])
}

/// The published posts, newest first.
pub async fn published(db: &AsyncDatabase) -> tack_orm::Result<Vec<Post>> {
    db.run(|db| {
        Post::objects()
            .filter(Post::PUBLISHED.eq(true))
            .order_by(Post::CREATED_AT.desc())
            .all(db)
    })
    .await
}

/// The published post at `slug`.
pub async fn published_post(db: &AsyncDatabase, slug: String) -> tack_orm::Result<Option<Post>> {
    db.run(move |db| {
        Post::objects()
            .filter(Post::SLUG.eq(&slug) & Post::PUBLISHED.eq(true))
            .first(db)
    })
    .await
}

/// A post for a template.
pub fn post_value(post: &Post) -> Value {
    context! {
        title => post.title.clone(),
        slug => post.slug.clone(),
        body => post.body.clone(),
        created_at => post.created_at.to_rfc3339(),
    }
}

/// What every page shows: the signed-in user, the flash messages (shown
/// once), the CSRF field for its forms.
pub fn page_context(user: Option<&User>, messages: &Messages, csrf: &CsrfToken) -> Value {
    let messages: Vec<Value> = messages
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|m| context! { level => m.level.as_str(), text => m.text })
        .collect();
    context! {
        user => user.map(|user| user.username.clone()),
        messages => messages,
        csrf_field => csrf.form_field(),
    }
}
