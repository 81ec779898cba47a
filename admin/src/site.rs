//! The admin site: registered models, the index, each model's pages.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, StatusCode};
use minijinja::context;
use tack_auth::{CurrentUser, User};
use tack_crud::{Action, Crud, CrudPages};
use tack_http::{Body, BoxError, Html, IntoResponse, Response};
use tack_orm::{AsyncDatabase, Model, ModelMeta};
use tack_templates::Templates;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

type Pages = BoxCloneSyncService<Request<Body>, Response, Infallible>;

/// The templates of the admin's own pages, to add to a template
/// environment beside [`tack_crud::TEMPLATES`] and [`tack_forms::TEMPLATES`]:
/// `admin/base.html` (the layout every admin page extends) and
/// `admin/index.html`. A project overrides one with a file of the same name,
/// and any model page with `admin/{model}_{page}.html`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "admin/base.html",
        include_str!("../templates/admin/base.html"),
    ),
    (
        "admin/index.html",
        include_str!("../templates/admin/index.html"),
    ),
];

/// How one model appears in the admin (Django's `ModelAdmin`). A model
/// registered with nothing configured works: every field in its form, the
/// first columns in its list.
pub struct ModelAdmin<M: Model> {
    configure: Arc<dyn Fn(Crud<M>) -> Crud<M> + Send + Sync>,
    pages: Arc<dyn Fn(CrudPages<M>) -> CrudPages<M> + Send + Sync>,
    list_display: Vec<&'static str>,
    fields: Vec<&'static str>,
}

impl<M: Model> Default for ModelAdmin<M> {
    fn default() -> Self {
        ModelAdmin::new()
    }
}

impl<M: Model> std::fmt::Debug for ModelAdmin<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelAdmin")
            .field("model", &M::meta().name)
            .field("list_display", &self.list_display)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl<M: Model> ModelAdmin<M> {
    /// The defaults.
    pub fn new() -> Self {
        ModelAdmin {
            configure: Arc::new(|crud| crud),
            pages: Arc::new(|pages| pages),
            list_display: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Options of the pages themselves (`|pages| pages.storage(media)` for
    /// file fields).
    pub fn pages(
        mut self,
        configure: impl Fn(CrudPages<M>) -> CrudPages<M> + Send + Sync + 'static,
    ) -> Self {
        let before = self.pages;
        self.pages = Arc::new(move |pages| configure(before(pages)));
        self
    }

    /// The list's columns.
    pub fn list_display(mut self, names: &[&'static str]) -> Self {
        self.list_display = names.to_vec();
        self
    }

    /// The form's fields, in order.
    pub fn fields(mut self, names: &[&'static str]) -> Self {
        self.fields = names.to_vec();
        self
    }

    /// Search, filters, ordering, hooks and the rest, on the controller the
    /// pages are drawn from (`|crud| crud.search_fields(&["title"])`).
    pub fn crud(mut self, configure: impl Fn(Crud<M>) -> Crud<M> + Send + Sync + 'static) -> Self {
        let before = self.configure;
        self.configure = Arc::new(move |crud| configure(before(crud)));
        self
    }
}

/// Builds a model's pages once every model is registered (the delete
/// confirmation looks through all of them).
type Factory = Box<dyn Fn(&[&'static ModelMeta]) -> Pages + Send + Sync>;

/// One registered model.
struct Entry {
    meta: &'static ModelMeta,
    factory: Factory,
}

/// The admin site, as a `tower::Service` mounted at its prefix (`/admin/`):
/// an index of the registered models the user may see, and each model's
/// list, detail, add, change and delete pages under
/// `/admin/{app}/{model}/`. Users must be active staff; each page needs the
/// model's Django permission (`newsroom.view_article`, `add_`, `change_`,
/// `delete_`; superusers have them all). Put it behind the session, CSRF and
/// auth layers, and `tack_auth::guard::GuardLayer::staff_required` to send
/// anonymous visitors to the login page.
#[derive(Clone)]
pub struct AdminSite {
    inner: Arc<Site>,
}

struct Site {
    title: String,
    prefix: String,
    db: AsyncDatabase,
    templates: Templates,
    entries: Vec<Entry>,
    models: Vec<&'static ModelMeta>,
    pages: std::sync::OnceLock<Vec<Pages>>,
}

impl std::fmt::Debug for AdminSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSite")
            .field("title", &self.inner.title)
            .field("prefix", &self.inner.prefix)
            .field(
                "models",
                &self
                    .inner
                    .entries
                    .iter()
                    .map(|e| e.meta.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The Django permission for `action` on a model (`newsroom.change_article`).
pub fn permission(meta: &ModelMeta, action: Action) -> String {
    let verb = match action {
        Action::Create => "add",
        Action::Update => "change",
        Action::Delete => "delete",
        _ => "view",
    };
    format!("{}.{verb}_{}", meta.app, meta.name.to_lowercase())
}

fn may(parts: &Parts, meta: &ModelMeta, action: Action) -> bool {
    let Some(current) = parts.extensions.get::<CurrentUser<User>>() else {
        return false;
    };
    if !current.is_staff() {
        return false;
    }
    // Who may change may view, as in Django.
    current.has_perm(&permission(meta, action))
        || (action.is_read() && current.has_perm(&permission(meta, Action::Update)))
}

impl AdminSite {
    /// A site titled `title` ("Newsroom administration") mounted at
    /// `prefix`, on `db`, drawn with `templates` (add [`TEMPLATES`],
    /// `tack_crud::TEMPLATES` and `tack_forms::TEMPLATES`, and install
    /// `tack_forms::install`).
    pub fn new(title: &str, prefix: &str, db: AsyncDatabase, templates: Templates) -> Self {
        let mut prefix = prefix.trim_end_matches('/').to_owned();
        prefix.push('/');
        AdminSite {
            inner: Arc::new(Site {
                title: title.to_owned(),
                prefix,
                db,
                templates,
                entries: Vec::new(),
                models: Vec::new(),
                pages: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Adds model `M` with its options.
    ///
    /// # Panics
    /// When called after the site was cloned (register everything first),
    /// or when an option names a field `M` does not have.
    pub fn register<M: Model>(mut self, admin: ModelAdmin<M>) -> Self {
        let site = Arc::get_mut(&mut self.inner).expect("register models before cloning the site");
        let meta = M::meta();
        let base = format!("{}{}/{}/", site.prefix, meta.app, meta.name.to_lowercase());
        let (db, templates) = (site.db.clone(), site.templates.clone());
        let shared = context! {
            site_title => site.title.clone(),
            index_url => minijinja::Value::from_safe_string(site.prefix.clone()),
        };
        let factory: Factory = Box::new(move |models| {
            let crud = (admin.configure)(
                Crud::<M>::new(db.clone())
                    .base_path(&base)
                    .permission(|action: Action, parts: &Parts| may(parts, M::meta(), action)),
            );
            let mut pages = crud
                .pages(templates.clone())
                .base_path(&base)
                .layout("admin/base.html")
                .template_dir("admin")
                .context(shared.clone())
                .related_models(models);
            if !admin.fields.is_empty() {
                pages = pages.form_fields(&admin.fields);
            }
            if !admin.list_display.is_empty() {
                pages = pages.list_display(&admin.list_display);
            }
            BoxCloneSyncService::new((admin.pages)(pages))
        });
        site.models.push(meta);
        site.entries.push(Entry { meta, factory });
        self
    }

    /// The registered models.
    pub fn models(&self) -> &[&'static ModelMeta] {
        &self.inner.models
    }

    fn index(&self, parts: &Parts) -> Response {
        let site = &self.inner;
        let mut apps: Vec<(&str, Vec<minijinja::Value>)> = Vec::new();
        for entry in &site.entries {
            let meta = entry.meta;
            if !may(parts, meta, Action::List) {
                continue;
            }
            let url = format!("{}{}/{}/", site.prefix, meta.app, meta.name.to_lowercase());
            // Links made of the mount prefix and identifiers: printed as is.
            let link = |url: String| minijinja::Value::from_safe_string(url);
            let model = context! {
                name => tack_forms::pretty_name(meta.verbose_name_plural),
                url => link(url.clone()),
                add_url => may(parts, meta, Action::Create).then(|| link(format!("{url}new/"))),
            };
            match apps.iter_mut().find(|(app, _)| *app == meta.app) {
                Some((_, models)) => models.push(model),
                None => apps.push((meta.app, vec![model])),
            }
        }
        let apps: Vec<minijinja::Value> = apps
            .into_iter()
            .map(
                |(app, models)| context! { name => tack_forms::pretty_name(app), models => models },
            )
            .collect();
        let context = context! {
            site_title => site.title.clone(),
            title => site.title.clone(),
            apps => apps,
            index_url => minijinja::Value::from_safe_string(site.prefix.clone()),
        };
        let context = site.templates.context_for(parts, context);
        match site.templates.render("admin/index.html", context) {
            Ok(html) => Html(html).into_response(),
            Err(error) => site.templates.error_response(&error),
        }
    }

    /// The pages of the registered model `app/model` of a path under the
    /// prefix, if any.
    fn pages_for(&self, path: &str) -> Option<Pages> {
        let rest = path.strip_prefix(self.inner.prefix.as_str())?;
        let mut segments = rest.split('/');
        let (app, model) = (segments.next()?, segments.next()?);
        let index = self
            .inner
            .entries
            .iter()
            .position(|e| e.meta.app == app && e.meta.name.eq_ignore_ascii_case(model))?;
        let site = &self.inner;
        let pages = site.pages.get_or_init(|| {
            site.entries
                .iter()
                .map(|e| (e.factory)(&site.models))
                .collect()
        });
        Some(pages[index].clone())
    }
}

impl<B> tower_service::Service<Request<B>> for AdminSite
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let site = self.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let (parts, body) = request.into_parts();
            let staff = parts
                .extensions
                .get::<CurrentUser<User>>()
                .is_some_and(CurrentUser::is_staff);
            if !staff {
                return Ok(refusal(
                    StatusCode::FORBIDDEN,
                    "The admin is for staff users.",
                ));
            }
            if path == site.inner.prefix || path == site.inner.prefix.trim_end_matches('/') {
                return Ok(site.index(&parts));
            }
            match site.pages_for(&path) {
                Some(pages) => {
                    let request = Request::from_parts(parts, Body::new(body));
                    pages.oneshot(request).await
                }
                None => Ok(refusal(StatusCode::NOT_FOUND, "No such page in the admin.")),
            }
        })
    }
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html><title>{status}</title><h1>{status}</h1><p>{message}</p>"
        )),
    )
        .into_response()
}
