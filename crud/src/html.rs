//! The HTML side of the CRUD controller (feature `html`): Django's generic
//! list, detail, create, update and delete views over the same [`Crud`]
//! definition, with model forms, flash messages, redirect after POST and a
//! delete confirmation that lists what goes with the object.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use http::header::{HeaderValue, LOCATION};
use http::request::Parts;
use http::{Method, Request, StatusCode};
use minijinja::{Value as Tpl, context};
use tack_forms::{FormData, Limits, ModelForm};
use tack_http::{Body, BoxError, Html, IntoResponse, Response};
use tack_orm::{
    Connection, DeletePlan, FieldMeta, Instance, Model, ModelExt, ModelHandle, ModelMeta, Value,
};
use tack_sessions::Messages;
use tack_templates::Templates;

use crate::crud::{Crud, Writable};
use crate::error::Error;
use crate::permission::Action;
use crate::service::{ResponseFuture, fetch, percent_decode, scoped};

/// The templates the pages are drawn with, to add to a template
/// environment beside [`tack_forms::TEMPLATES`]. Each page looks for
/// `crud/{model}_{page}.html` first (`crud/article_list.html`), then
/// `crud/{page}.html`; the built-in pages extend `crud/base.html`, which a
/// project replaces with one that extends its own layout.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "crud/base.html",
        include_str!("../templates/crud/base.html"),
    ),
    (
        "crud/list.html",
        include_str!("../templates/crud/list.html"),
    ),
    (
        "crud/detail.html",
        include_str!("../templates/crud/detail.html"),
    ),
    (
        "crud/form.html",
        include_str!("../templates/crud/form.html"),
    ),
    (
        "crud/confirm_delete.html",
        include_str!("../templates/crud/confirm_delete.html"),
    ),
    (
        "crud/error.html",
        include_str!("../templates/crud/error.html"),
    ),
];

/// The pages of a [`Crud`] for browsers, as a `tower::Service`. Relative to
/// where it is mounted: `GET /` (the list, with the API's search, filters
/// and ordering), `GET|POST /new/`, `GET /{pk}/`, `GET|POST /{pk}/edit/`
/// and `GET|POST /{pk}/delete/`. The permission, scope and hooks are the
/// controller's.
pub struct CrudPages<M: Model> {
    crud: Crud<M>,
    templates: Templates,
    pages: Arc<Pages>,
}

impl<M: Model> Clone for CrudPages<M> {
    fn clone(&self) -> Self {
        CrudPages {
            crud: self.crud.clone(),
            templates: self.templates.clone(),
            pages: self.pages.clone(),
        }
    }
}

impl<M: Model> std::fmt::Debug for CrudPages<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrudPages")
            .field("model", &M::meta().name)
            .field("base_path", &self.pages.base_path)
            .field("columns", &self.pages.columns)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Pages {
    base_path: Option<String>,
    columns: Vec<&'static str>,
    form: ModelForm,
    storage: Option<Arc<dyn tack_forms::Storage>>,
    related: Vec<&'static ModelMeta>,
    limits: Limits,
    layout: String,
    template_dir: Option<String>,
    context: Tpl,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("base_path", &self.base_path)
            .field("columns", &self.columns)
            .field("form", &self.form)
            .field("storage", &self.storage.is_some())
            .finish_non_exhaustive()
    }
}

impl<M: Model> Crud<M> {
    /// The HTML pages of this controller, drawn with `templates` (add
    /// [`TEMPLATES`] and [`tack_forms::TEMPLATES`] to it and install
    /// [`tack_forms::install`]; without them the built-in pages are used).
    /// The form shows the writable fields that are editable.
    pub fn pages(&self, templates: Templates) -> CrudPages<M> {
        let meta = M::meta();
        let names: Vec<&str> = self
            .config
            .writable
            .iter()
            .filter(|w| match w {
                Writable::Field(f) => f.editable && !f.auto && f.auto_now.is_none(),
                Writable::Many(_) => true,
            })
            .map(Writable::name)
            .collect();
        let columns = std::iter::once(meta.pk_field().name)
            .chain(
                meta.fields
                    .iter()
                    .filter(|f| !f.primary_key && f.kind != tack_orm::FieldKind::Bytes)
                    .map(|f| f.name)
                    .take(4),
            )
            .collect();
        CrudPages {
            crud: self.clone(),
            templates,
            pages: Arc::new(Pages {
                base_path: self.config.base_path.clone(),
                columns,
                form: ModelForm::of::<M>().fields(&names),
                storage: None,
                related: Vec::new(),
                limits: Limits::default(),
                layout: "crud/base.html".to_owned(),
                template_dir: None,
                context: Tpl::UNDEFINED,
            }),
        }
    }
}

impl<M: Model> CrudPages<M> {
    fn pages(&mut self) -> &mut Pages {
        Arc::make_mut(&mut self.pages)
    }

    /// Where the pages are mounted (`/write/`), for the links they draw;
    /// without it links are relative to the request.
    pub fn base_path(mut self, path: &str) -> Self {
        let mut path = path.trim_end_matches('/').to_owned();
        path.push('/');
        self.pages().base_path = Some(path);
        self
    }

    /// The columns of the list page (fields of the model), after the link
    /// to each object.
    ///
    /// # Panics
    /// If a name is not a field of `M`.
    pub fn list_display(mut self, names: &[&str]) -> Self {
        let meta = M::meta();
        let columns = names
            .iter()
            .map(|name| {
                meta.fields
                    .iter()
                    .find(|f| f.name == *name)
                    .map(|f| f.name)
                    .unwrap_or_else(|| panic!("{name} is not a field of {}", meta.name))
            })
            .collect();
        self.pages().columns = columns;
        self
    }

    /// The form's fields, in order (writable fields of the controller).
    ///
    /// # Panics
    /// If a name is not an editable field of `M`.
    pub fn form_fields(mut self, names: &[&str]) -> Self {
        let mut form = ModelForm::of::<M>().fields(names);
        if let Some(storage) = &self.pages.storage {
            form = form.storage(storage.clone());
        }
        self.pages().form = form;
        self
    }

    /// Where the model's file fields keep uploads (the forms are then sent
    /// as `multipart/form-data`).
    pub fn storage(mut self, storage: Arc<dyn tack_forms::Storage>) -> Self {
        let pages = self.pages();
        pages.form = pages.form.clone().storage(storage.clone());
        pages.storage = Some(storage);
        self
    }

    /// The models whose foreign keys may point at this one, so the delete
    /// confirmation lists the rows that go with an object (Django's
    /// collector); the admin passes its registered models.
    pub fn related_models(mut self, models: &[&'static ModelMeta]) -> Self {
        self.pages().related = models.to_vec();
        self
    }

    /// The layout the built-in pages extend (default `crud/base.html`):
    /// the admin draws the same pages in its own.
    pub fn layout(mut self, template: &str) -> Self {
        self.pages().layout = template.to_owned();
        self
    }

    /// A folder searched before `crud/` for each page (`admin` looks for
    /// `admin/article_list.html`, `admin/list.html`, then the `crud/` ones).
    pub fn template_dir(mut self, dir: &str) -> Self {
        self.pages().template_dir = Some(dir.trim_matches('/').to_owned());
        self
    }

    /// Variables every page gets (the admin's site title, say).
    pub fn context(mut self, values: Tpl) -> Self {
        self.pages().context = values;
        self
    }

    /// How much a submitted form may carry.
    pub fn form_limits(mut self, limits: Limits) -> Self {
        self.pages().limits = limits;
        self
    }
}

/// One page, from the path and method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    List,
    Create,
    Detail,
    Update,
    Delete,
}

impl Page {
    fn action(self) -> Action {
        match self {
            Page::List => Action::List,
            Page::Create => Action::Create,
            Page::Detail => Action::Retrieve,
            Page::Update => Action::Update,
            Page::Delete => Action::Delete,
        }
    }
}

/// The page answering `path`, and the object's key for object pages.
fn route(base: Option<&str>, path: &str) -> Option<(Page, Option<String>)> {
    let rest = match base {
        Some(base) => path
            .strip_prefix(base.trim_end_matches('/'))
            .unwrap_or(path),
        None => path,
    };
    let segments: Vec<&str> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segments.as_slice() {
        [] => Some((Page::List, None)),
        ["new"] => Some((Page::Create, None)),
        [pk] => Some((Page::Detail, Some(percent_decode(pk)))),
        [pk, "edit"] => Some((Page::Update, Some(percent_decode(pk)))),
        [pk, "delete"] => Some((Page::Delete, Some(percent_decode(pk)))),
        _ => None,
    }
}

impl<M, B> tower_service::Service<Request<B>> for CrudPages<M>
where
    M: Model,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let pages = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let parts = Arc::new(parts);
            let response = match pages.handle(parts.clone(), body).await {
                Ok(response) => response,
                Err(error) => pages.error_page(&parts, &error),
            };
            Ok(response)
        })
    }
}

/// What a page's database work answers.
enum Outcome {
    /// Render this template with this context and status.
    Render(StatusCode, &'static str, Tpl),
    /// Redirect (after a write).
    Redirect(String),
}

impl<M: Model> CrudPages<M> {
    async fn handle<B>(&self, parts: Arc<Parts>, body: B) -> Result<Response, Error>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let Some((page, pk)) = route(self.pages.base_path.as_deref(), parts.uri.path()) else {
            return Err(Error::NoRoute {
                path: parts.uri.path().to_owned(),
            });
        };
        let post = parts.method == Method::POST;
        let allowed = match page {
            Page::List | Page::Detail => matches!(parts.method, Method::GET | Method::HEAD),
            _ => matches!(parts.method, Method::GET | Method::HEAD | Method::POST),
        };
        if !allowed {
            return Err(Error::MethodNotAllowed {
                method: parts.method.clone(),
                allow: if matches!(page, Page::List | Page::Detail) {
                    "GET, HEAD"
                } else {
                    "GET, HEAD, POST"
                },
            });
        }
        if !self.crud.config.permission.allows(page.action(), &parts) {
            return Err(Error::Forbidden {
                action: page.action(),
                model: M::meta().name,
            });
        }
        let data = if post && page != Page::Delete {
            Some(
                FormData::from_body(&parts.headers, body, &self.pages.limits)
                    .await
                    .map_err(form_error)?,
            )
        } else {
            None
        };
        let pk = match pk {
            Some(text) => Some(parse_pk::<M>(text)?),
            None => None,
        };
        let this = self.clone();
        let job_parts = parts.clone();
        let outcome = self
            .crud
            .db
            .run(move |db| {
                let conn = db.connection()?;
                Ok(this.work(&job_parts, &conn, page, pk, post, data))
            })
            .await??;
        Ok(match outcome {
            Outcome::Redirect(to) => redirect(&to),
            Outcome::Render(status, view, context) => self.render(&parts, status, view, context),
        })
    }

    fn work(
        &self,
        parts: &Parts,
        conn: &Connection,
        page: Page,
        pk: Option<Value>,
        post: bool,
        data: Option<FormData>,
    ) -> Result<Outcome, Error> {
        let config = &self.crud.config;
        let object = match &pk {
            Some(pk) => Some(fetch(config, parts, conn, pk)?),
            None => None,
        };
        match (page, object) {
            (Page::List, _) => self.list(parts, conn),
            (Page::Detail, Some(object)) => {
                let context = context! { object => self.object(conn, &object)? };
                Ok(Outcome::Render(
                    StatusCode::OK,
                    "detail",
                    self.page_context(parts, page, context),
                ))
            }
            (Page::Create | Page::Update, object) => self.edit(parts, conn, page, object, data),
            (Page::Delete, Some(object)) => self.delete(parts, conn, object, post),
            _ => Err(Error::NoRoute {
                path: parts.uri.path().to_owned(),
            }),
        }
    }

    fn list(&self, parts: &Parts, conn: &Connection) -> Result<Outcome, Error> {
        let config = &self.crud.config;
        let (qs, request) =
            crate::query::list_query(config, parts.uri.query(), scoped(config, parts))?;
        let count = qs.count(conn)?;
        let pages = count.div_ceil(request.size).max(1);
        if request.page > pages {
            return Err(Error::PageOutOfRange {
                page: request.page,
                pages,
            });
        }
        let models = qs
            .offset((request.page - 1) * request.size)
            .limit(request.size)
            .all(conn)?;
        let instances: Vec<Instance> = models.iter().map(Instance::of).collect();
        let meta = M::meta();
        let columns: Vec<&'static FieldMeta> = self
            .pages
            .columns
            .iter()
            .filter_map(|name| meta.fields.iter().find(|f| f.name == *name))
            .collect();
        let related = related_displays(conn, &columns, &instances)?;
        let handle = meta.handle();
        let mut rows = Vec::new();
        for instance in &instances {
            let cells: Vec<String> = columns
                .iter()
                .map(|field| {
                    cell(
                        field,
                        instance.get(field.name).unwrap_or(&Value::Null),
                        &related,
                    )
                })
                .collect();
            rows.push(context! {
                pk => pk_text(instance),
                url => link(self.url(parts, &format!("{}/", pk_text(instance)))),
                display => handle.display(instance)?,
                cells => cells,
            });
        }
        let page_url = |page: u64| {
            let base = self.url(parts, "");
            link(crate::query::page_link(&base, &request.pairs, page))
        };
        let search = request
            .pairs
            .iter()
            .find(|(k, _)| k == "search")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let context = context! {
            objects => rows,
            columns => columns.iter().map(|f| {
                // A column the controller may order by links to that order
                // (and back), keeping the other parameters.
                let sortable = config.ordering.iter().any(|o| o == f.name);
                let current = request.pairs.iter().find(|(k, _)| k == "ordering").map(|(_, v)| v.as_str());
                let (next, sorted) = match current {
                    Some(o) if o == f.name => (format!("-{}", f.name), Some("ascending")),
                    Some(o) if o.strip_prefix('-') == Some(f.name) => (f.name.to_owned(), Some("descending")),
                    _ => (f.name.to_owned(), None),
                };
                let url = sortable.then(|| {
                    let mut pairs: Vec<(String, String)> =
                        request.pairs.iter().filter(|(k, _)| k != "ordering").cloned().collect();
                    pairs.push(("ordering".to_owned(), next));
                    link(crate::query::page_link(&self.url(parts, ""), &pairs, 1))
                });
                context! { label => tack_forms::pretty_name(f.verbose_name), url => url, sorted => sorted }
            }).collect::<Vec<_>>(),
            count => count,
            page => context! {
                number => request.page,
                pages => pages,
                next => (request.page < pages).then(|| page_url(request.page + 1)),
                previous => (request.page > 1).then(|| page_url(request.page - 1)),
            },
            search => context! { enabled => !config.search.is_empty(), value => search },
            filters => config.filters.iter().map(|f| {
                let value = request.pairs.iter().find(|(k, _)| *k == f.param).map(|(_, v)| v.clone());
                Ok(context! {
                    name => f.param.clone(),
                    label => filter_label(&f.param),
                    value => value,
                    choices => filter_choices(conn, f)?,
                })
            }).collect::<Result<Vec<_>, Error>>()?,
        };
        Ok(Outcome::Render(
            StatusCode::OK,
            "list",
            self.page_context(parts, Page::List, context),
        ))
    }

    fn edit(
        &self,
        parts: &Parts,
        conn: &Connection,
        page: Page,
        object: Option<M>,
        data: Option<FormData>,
    ) -> Result<Outcome, Error> {
        let meta = M::meta();
        let instance = object.as_ref().map(Instance::of);
        let Some(data) = data else {
            let form = self.pages.form.form(conn, instance).map_err(form_error)?;
            let context = self.form_context(conn, object.as_ref(), form.view())?;
            return Ok(Outcome::Render(
                StatusCode::OK,
                "form",
                self.page_context(parts, page, context),
            ));
        };
        let mut form = self
            .pages
            .form
            .bind(conn, &data, instance)
            .map_err(form_error)?;
        let creating = object.is_none();
        let hooks = if creating {
            &self.crud.config.hooks.before_create
        } else {
            &self.crud.config.hooks.before_update
        };
        let saved = if form.is_valid() {
            conn.atomic(|tx| {
                let mut model: M = form.instance().to_model()?;
                for hook in hooks {
                    hook(parts, tx, &mut model)?;
                }
                *form.instance_mut() = Instance::of(&model);
                let saved = form.save(tx).map_err(form_error)?;
                match saved {
                    Some(saved) => Ok(Some(saved)),
                    // Roll back what the hooks wrote.
                    None => Err(Error::Invalid {
                        model: meta.name,
                        errors: tack_orm::ValidationErrors::new(),
                    }),
                }
            })
            .or_else(|error| match error {
                Error::Invalid { .. } => Ok(None),
                other => Err(other),
            })?
        } else {
            None
        };
        let Some(saved) = saved else {
            let context = self.form_context(conn, object.as_ref(), form.view())?;
            return Ok(Outcome::Render(
                StatusCode::OK,
                "form",
                self.page_context(parts, page, context),
            ));
        };
        let model: M = saved.to_model()?;
        let hooks = if creating {
            &self.crud.config.hooks.after_create
        } else {
            &self.crud.config.hooks.after_update
        };
        for hook in hooks {
            hook(parts, &model);
        }
        let display = meta.handle().display(&saved)?;
        let verb = if creating { "added" } else { "changed" };
        flash(
            parts,
            format!(
                "The {} “{display}” was {verb} successfully.",
                meta.verbose_name
            ),
        );
        Ok(Outcome::Redirect(
            self.url(parts, &format!("{}/", pk_text(&saved))),
        ))
    }

    fn delete(
        &self,
        parts: &Parts,
        conn: &Connection,
        object: M,
        post: bool,
    ) -> Result<Outcome, Error> {
        let meta = M::meta();
        let handle = meta.handle();
        let instance = Instance::of(&object);
        let plan = handle.delete_plan(
            conn,
            std::slice::from_ref(instance.pk()),
            &self.pages.related,
        )?;
        if post && plan.is_allowed() {
            conn.atomic(|tx| {
                let mut scratch = object.clone();
                for hook in &self.crud.config.hooks.before_delete {
                    hook(parts, tx, &mut scratch)?;
                }
                object.clone().delete(tx)?;
                Ok::<_, Error>(())
            })?;
            for hook in &self.crud.config.hooks.after_delete {
                hook(parts, &object);
            }
            let display = handle.display(&instance)?;
            flash(
                parts,
                format!(
                    "The {} “{display}” was deleted successfully.",
                    meta.verbose_name
                ),
            );
            return Ok(Outcome::Redirect(self.url(parts, "")));
        }
        let status = if post {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        };
        let context = context! {
            object => self.object(conn, &object)?,
            plan => plan_context(&plan)?,
        };
        Ok(Outcome::Render(
            status,
            "confirm_delete",
            self.page_context(parts, Page::Delete, context),
        ))
    }

    /// An object for the detail and delete pages: its key, display string,
    /// links and each field's label and shown value.
    fn object(&self, conn: &Connection, object: &M) -> Result<Tpl, Error> {
        let meta = M::meta();
        let instance = Instance::of(object);
        let fields: Vec<&'static FieldMeta> = meta.fields.iter().collect();
        let related = related_displays(conn, &fields, std::slice::from_ref(&instance))?;
        let mut shown: Vec<Tpl> = fields
            .iter()
            .map(|f| {
                context! {
                    label => tack_forms::pretty_name(f.verbose_name),
                    value => cell(f, instance.get(f.name).unwrap_or(&Value::Null), &related),
                }
            })
            .collect();
        let handle = meta.handle();
        for m2m in meta.many_to_many {
            let target = (m2m.target)().handle();
            let ids = handle.many_ids(conn, m2m.name, instance.pk())?;
            let names = target
                .get_many(conn, &ids)?
                .iter()
                .flatten()
                .map(|row| target.display(row))
                .collect::<Result<Vec<_>, _>>()?;
            shown.push(
                context! { label => tack_forms::pretty_name(m2m.verbose_name), value => names.join(", ") },
            );
        }
        let pk = pk_text(&instance);
        Ok(context! {
            pk => pk.clone(),
            display => handle.display(&instance)?,
            fields => shown,
        })
    }

    fn form_context(&self, conn: &Connection, object: Option<&M>, form: Tpl) -> Result<Tpl, Error> {
        let multipart = self.pages.form.field_names().iter().any(|n| {
            M::meta()
                .fields
                .iter()
                .any(|f| f.name == *n && f.file.is_some())
        });
        Ok(context! {
            form => form,
            object => match object {
                Some(object) => Some(self.object(conn, object)?),
                None => None,
            },
            multipart => multipart,
        })
    }

    /// What every page gets: the model's names, the links, what the user may do.
    fn page_context(&self, parts: &Parts, page: Page, extra: Tpl) -> Tpl {
        let meta = M::meta();
        let permission = &self.crud.config.permission;
        let pk = route(self.pages.base_path.as_deref(), parts.uri.path()).and_then(|(_, pk)| pk);
        let object_url = |suffix: &str| {
            pk.as_ref()
                .map(|pk| link(self.url(parts, &format!("{}/{suffix}", percent_encode(pk)))))
        };
        let title = match page {
            Page::List => tack_forms::pretty_name(meta.verbose_name_plural),
            Page::Create => format!("Add {}", meta.verbose_name),
            Page::Update => format!("Change {}", meta.verbose_name),
            Page::Detail => tack_forms::pretty_name(meta.verbose_name),
            Page::Delete => format!("Delete {}", meta.verbose_name),
        };
        let base = context! {
            crud_layout => self.pages.layout.clone(),
            title => title,
            model => context! {
                name => meta.name.to_lowercase(),
                verbose_name => meta.verbose_name,
                verbose_name_plural => meta.verbose_name_plural,
            },
            urls => context! {
                list => link(self.url(parts, "")),
                create => link(self.url(parts, "new/")),
                detail => object_url(""),
                edit => object_url("edit/"),
                delete => object_url("delete/"),
            },
            can => context! {
                create => permission.allows(Action::Create, parts),
                update => permission.allows(Action::Update, parts),
                delete => permission.allows(Action::Delete, parts),
            },
        };
        minijinja::value::merge_maps([base, self.pages.context.clone(), extra])
    }

    /// `tail` under where the pages are mounted.
    fn url(&self, parts: &Parts, tail: &str) -> String {
        let base = match &self.pages.base_path {
            Some(base) => base.clone(),
            None => {
                let path = parts.uri.path();
                let depth = route(None, path).map_or(0, |(page, _)| match page {
                    Page::List => 0,
                    Page::Create | Page::Detail => 1,
                    Page::Update | Page::Delete => 2,
                });
                let mut base = path.trim_end_matches('/').to_owned();
                for _ in 0..depth {
                    if let Some(cut) = base.rfind('/') {
                        base.truncate(cut);
                    }
                }
                base.push('/');
                base
            }
        };
        format!("{base}{tail}")
    }

    fn render(&self, parts: &Parts, status: StatusCode, view: &str, context: Tpl) -> Response {
        let model = M::meta().name.to_lowercase();
        let mut names = Vec::with_capacity(4);
        if let Some(dir) = &self.pages.template_dir {
            names.push(format!("{dir}/{model}_{view}.html"));
            names.push(format!("{dir}/{view}.html"));
        }
        names.push(format!("crud/{model}_{view}.html"));
        names.push(format!("crud/{view}.html"));
        let builtin = names.len() - 1;
        let env = self.templates.environment();
        let context = self.templates.context_for(parts, context);
        let found = names.iter().find(|n| env.get_template(n).is_ok());
        let rendered = match found {
            Some(name) => self
                .templates
                .render(name, context)
                .map_err(|e| e.to_string()),
            None => fallback()
                .get_template(&names[builtin])
                .and_then(|t| t.render(context))
                .map_err(|e| e.to_string()),
        };
        match rendered {
            Ok(html) => (status, Html(html)).into_response(),
            Err(message) => {
                tracing::error!(error = %message, "tack-crud page failed to render");
                let mut response = http::Response::new(Body::from("the page could not be drawn"));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        }
    }

    /// 403, 404 and the other refusals as a page.
    fn error_page(&self, parts: &Parts, error: &Error) -> Response {
        let status = error.status();
        if status.is_server_error() {
            tracing::error!(error = %error, "tack-crud page failed");
        }
        let message = match status {
            StatusCode::NOT_FOUND => "The page or object was not found.".to_owned(),
            StatusCode::FORBIDDEN => "You do not have permission to do this.".to_owned(),
            s if s.is_server_error() => "Something went wrong on our side.".to_owned(),
            _ => error.to_string(),
        };
        let context = context! {
            crud_layout => self.pages.layout.clone(),
            title => status.canonical_reason().unwrap_or("Error"),
            status => status.as_u16(),
            message => message,
        };
        let context = minijinja::value::merge_maps([self.pages.context.clone(), context]);
        let mut response = self.render(parts, status, "error", context);
        if let Error::MethodNotAllowed { allow, .. } = error {
            response
                .headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static(allow));
        }
        if parts.method == Method::HEAD {
            *response.body_mut() = Body::empty();
        }
        response
    }
}

fn fallback() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        for (name, source) in TEMPLATES.iter().chain(tack_forms::TEMPLATES) {
            env.add_template(name, source)
                .expect("the built-in page templates parse (the tests render each)");
        }
        tack_forms::install(&mut env);
        env
    })
}

fn parse_pk<M: Model>(text: String) -> Result<Value, Error> {
    let field = M::meta().pk_field();
    field.parse_input(&text).map_err(|_| Error::NotFound {
        model: M::meta().name,
        pk_name: field.name,
        pk: text,
    })
}

fn pk_text(instance: &Instance) -> String {
    let meta = instance.meta();
    percent_encode(&meta.pk_field().format_input(instance.pk()))
}

fn percent_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A link the pages built (a mounted path, percent-encoded keys, an
/// encoded query): printed as is, with any character that could end an
/// attribute percent-encoded.
fn link(url: String) -> Tpl {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\'' => out.push_str("%27"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    Tpl::from_safe_string(out)
}

fn redirect(to: &str) -> Response {
    let mut response = http::Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(location) = HeaderValue::try_from(to) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

fn flash(parts: &Parts, message: String) {
    if let Some(messages) = parts.extensions.get::<Messages>()
        && let Err(error) = messages.success(message)
    {
        tracing::warn!(error = %error, "the flash message could not be kept");
    }
}

fn form_error(error: tack_forms::Error) -> Error {
    match error {
        tack_forms::Error::Database(error) => Error::Database(error),
        other => Error::Rejected(Box::new(
            tack_http::Problem::new(other.status()).with_detail(other.to_string()),
        )),
    }
}

/// The options of a filter on one value (`exact`): a field's choices,
/// yes and no for booleans, the rows of a foreign key's model; `None` for
/// filters typed as text.
fn filter_choices(
    conn: &Connection,
    filter: &crate::crud::Filter,
) -> Result<Option<Vec<Tpl>>, Error> {
    if filter.lookup_name != "exact" {
        return Ok(None);
    }
    let field = filter.field;
    let option = |value: String, label: String| context! { value => value, label => label };
    if let Some(relation) = field.relation {
        let target = (relation.target)().handle();
        let pk = (relation.target)().pk_field();
        let rows = target.list(conn, &tack_orm::ListQuery::new().limit(200))?;
        return Ok(Some(
            rows.iter()
                .map(|row| Ok(option(pk.format_input(row.pk()), target.display(row)?)))
                .collect::<Result<Vec<_>, Error>>()?,
        ));
    }
    if !field.choices.is_empty() {
        return Ok(Some(
            field
                .choices
                .iter()
                .map(|(stored, label)| option((*stored).to_owned(), (*label).to_owned()))
                .collect(),
        ));
    }
    if field.kind == tack_orm::FieldKind::Bool {
        return Ok(Some(vec![
            option("true".to_owned(), "Yes".to_owned()),
            option("false".to_owned(), "No".to_owned()),
        ]));
    }
    Ok(None)
}

fn filter_label(param: &str) -> String {
    tack_forms::pretty_name(&param.replace("__", " "))
}

/// The display strings of the rows the foreign-key columns point at, by
/// (field name, key), read with one query per column.
fn related_displays(
    conn: &Connection,
    columns: &[&'static FieldMeta],
    instances: &[Instance],
) -> Result<Vec<(&'static str, Value, String)>, Error> {
    let mut found = Vec::new();
    for field in columns {
        let Some(relation) = field.relation else {
            continue;
        };
        let target: ModelHandle = (relation.target)().handle();
        let mut ids: Vec<Value> = instances
            .iter()
            .filter_map(|i| i.get(field.name).cloned())
            .filter(|v| !v.is_null())
            .collect();
        ids.sort_by_key(|v| v.to_string());
        ids.dedup();
        for (id, row) in ids.iter().zip(target.get_many(conn, &ids)?) {
            if let Some(row) = row {
                found.push((field.name, id.clone(), target.display(&row)?));
            }
        }
    }
    Ok(found)
}

/// How a list or detail page shows one value.
fn cell(field: &FieldMeta, value: &Value, related: &[(&'static str, Value, String)]) -> String {
    if value.is_null() {
        return "—".to_owned();
    }
    if field.relation.is_some() {
        return related
            .iter()
            .find(|(name, id, _)| *name == field.name && id == value)
            .map_or_else(|| value.to_string(), |(_, _, display)| display.clone());
    }
    if let Value::Text(text) = value
        && let Some((_, label)) = field.choices.iter().find(|(stored, _)| stored == text)
    {
        return (*label).to_owned();
    }
    match value {
        Value::Bool(true) => "Yes".to_owned(),
        Value::Bool(false) => "No".to_owned(),
        Value::DateTime(at) => at.format("%Y-%m-%d %H:%M").to_string(),
        other => other.to_string(),
    }
}

/// The delete plan for the confirmation page.
fn plan_context(plan: &DeletePlan) -> Result<Tpl, Error> {
    let groups = |collected: &[tack_orm::Collected]| -> Result<Vec<Tpl>, Error> {
        collected
            .iter()
            .map(|c| {
                let handle = c.model.handle();
                let items = c
                    .instances
                    .iter()
                    .map(|i| handle.display(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(context! {
                    model => c.model.verbose_name,
                    model_plural => c.model.verbose_name_plural,
                    count => items.len(),
                    items => items,
                })
            })
            .collect()
    };
    Ok(context! {
        allowed => plan.is_allowed(),
        deleted => groups(&plan.deleted)?,
        updated => groups(&plan.updated)?,
        protected => groups(&plan.protected)?,
        links => plan.links.iter().map(|l| context! {
            model => l.model.verbose_name,
            relation => l.relation.verbose_name,
            count => l.count,
        }).collect::<Vec<_>>(),
        total => plan.total(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let cases = [
            ("/write/", Some((Page::List, None))),
            ("/write/new/", Some((Page::Create, None))),
            ("/write/3/", Some((Page::Detail, Some("3")))),
            ("/write/3/edit/", Some((Page::Update, Some("3")))),
            ("/write/a%20b/delete/", Some((Page::Delete, Some("a b")))),
            ("/write/3/other/", None),
            ("/write/3/edit/x/", None),
        ];
        for (path, expected) in cases {
            let got = route(Some("/write/"), path);
            assert_eq!(
                got.as_ref().map(|(p, k)| (*p, k.as_deref())),
                expected,
                "{path}"
            );
        }
    }

    #[test]
    fn built_in_templates_parse() {
        let env = fallback();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap();
        }
    }

    #[test]
    fn values_are_shown_for_people() {
        let field = FieldMeta::new("done", tack_orm::FieldKind::Bool);
        assert_eq!(cell(&field, &Value::Bool(true), &[]), "Yes");
        assert_eq!(cell(&field, &Value::Null, &[]), "—");
    }
}
