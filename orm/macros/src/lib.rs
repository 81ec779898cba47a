//! Derive macros for tack-orm: `#[derive(Model)]` and `#[derive(Choices)]`.
//! Use them through `tack_orm`, which re-exports both.

mod embed;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::{
    Data, DeriveInput, Expr, Fields, GenericArgument, Ident, LitInt, LitStr, PathArguments, Type,
    parse_macro_input, spanned::Spanned,
};

/// The migration files of a folder (relative to the crate's manifest) as
/// `&[(name, text)]`, read at compile time. A new file needs a rebuild: add
/// `println!("cargo:rerun-if-changed=migrations");` to the crate's build.rs.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    embed::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Maps a struct to a table. See the `tack_orm` crate documentation.
#[proc_macro_derive(Model, attributes(tack))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    model(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Stores a fieldless enum as text. See the `tack_orm` crate documentation.
#[proc_macro_derive(Choices, attributes(tack))]
pub fn derive_choices(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    choices(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn words(name: &str) -> String {
    snake(name).replace('_', " ")
}

fn option_inner(ty: &Type) -> Option<&Type> {
    generic_of(ty, "Option")
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn generic_of<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let segment = p.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

#[derive(Default)]
struct FieldOpts {
    primary_key: bool,
    max_length: Option<u32>,
    unique: bool,
    index: bool,
    default: Option<Expr>,
    choices: bool,
    verbose_name: Option<String>,
    help_text: Option<String>,
    db_column: Option<String>,
    blank: bool,
    on_delete: Option<(String, Span)>,
    related_name: Option<String>,
    validate: Option<syn::Path>,
    join_table: Option<String>,
    related_field: Option<String>,
    auto_now: Option<(&'static str, Span)>,
    editable: Option<bool>,
    format: Option<(&'static str, Span)>,
    file: Option<Span>,
    upload_to: Option<String>,
    max_upload_size: Option<u64>,
    content_types: Option<String>,
}

fn field_opts(attrs: &[syn::Attribute]) -> syn::Result<FieldOpts> {
    let mut o = FieldOpts::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("tack")) {
        attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            let string = |meta: &syn::meta::ParseNestedMeta<'_>| -> syn::Result<String> {
                Ok(meta.value()?.parse::<LitStr>()?.value())
            };
            if p.is_ident("primary_key") {
                o.primary_key = true;
            } else if p.is_ident("unique") {
                o.unique = true;
            } else if p.is_ident("index") {
                o.index = true;
            } else if p.is_ident("choices") {
                o.choices = true;
            } else if p.is_ident("blank") {
                o.blank = true;
            } else if p.is_ident("max_length") {
                o.max_length = Some(meta.value()?.parse::<LitInt>()?.base10_parse()?);
            } else if p.is_ident("default") {
                o.default = Some(meta.value()?.parse::<Expr>()?);
            } else if p.is_ident("verbose_name") {
                o.verbose_name = Some(string(&meta)?);
            } else if p.is_ident("help_text") {
                o.help_text = Some(string(&meta)?);
            } else if p.is_ident("db_column") {
                o.db_column = Some(string(&meta)?);
            } else if p.is_ident("related_name") {
                o.related_name = Some(string(&meta)?);
            } else if p.is_ident("join_table") {
                o.join_table = Some(string(&meta)?);
            } else if p.is_ident("related_field") {
                o.related_field = Some(string(&meta)?);
            } else if p.is_ident("on_delete") {
                let lit = meta.value()?.parse::<LitStr>()?;
                o.on_delete = Some((lit.value(), lit.span()));
            } else if p.is_ident("validate") {
                let lit = meta.value()?.parse::<LitStr>()?;
                o.validate = Some(lit.parse()?);
            } else if p.is_ident("auto_now") {
                o.auto_now = Some(("Save", p.span()));
            } else if p.is_ident("auto_now_add") {
                o.auto_now = Some(("Create", p.span()));
            } else if p.is_ident("slug") {
                o.format = Some(("Slug", p.span()));
            } else if p.is_ident("email") {
                o.format = Some(("Email", p.span()));
            } else if p.is_ident("url") {
                o.format = Some(("Url", p.span()));
            } else if p.is_ident("file") {
                o.file = Some(p.span());
            } else if p.is_ident("upload_to") {
                o.upload_to = Some(string(&meta)?);
            } else if p.is_ident("max_upload_size") {
                o.max_upload_size = Some(meta.value()?.parse::<LitInt>()?.base10_parse()?);
            } else if p.is_ident("content_types") {
                o.content_types = Some(string(&meta)?);
            } else if p.is_ident("editable") {
                o.editable = Some(meta.value()?.parse::<syn::LitBool>()?.value);
            } else {
                return Err(meta.error(
                    "unknown tack field option; expected one of: primary_key, max_length, unique, index, \
                     default, choices, verbose_name, help_text, db_column, blank, on_delete, related_name, \
                     validate, join_table, related_field, auto_now, auto_now_add, editable, slug, email, url, \
                     file, upload_to, max_upload_size, content_types",
                ));
            }
            Ok(())
        })?;
    }
    Ok(o)
}

/// `#[tack(file, upload_to = "covers/", max_upload_size = 2000000,
/// content_types = "image/png, image/jpeg")]` on a `String` field.
fn file_rules(o: &FieldOpts, inner: &Type) -> syn::Result<Tokens> {
    let Some(span) = o.file else {
        if o.upload_to.is_some() || o.max_upload_size.is_some() || o.content_types.is_some() {
            return Err(syn::Error::new(
                Span::call_site(),
                "upload_to, max_upload_size and content_types need `file` on the same field",
            ));
        }
        return Ok(quote!(::core::option::Option::None));
    };
    if last_ident(inner).as_deref() != Some("String") {
        return Err(syn::Error::new(
            span,
            "file applies to String and Option<String> fields: they store the name the storage keeps the file under",
        ));
    }
    let upload_to = o.upload_to.clone().unwrap_or_default();
    let max_size = match o.max_upload_size {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let types: Vec<String> = o
        .content_types
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    Ok(quote!(::core::option::Option::Some(__t::FileRules {
        upload_to: #upload_to,
        max_size: #max_size,
        content_types: &[#(#types),*],
    })))
}

struct ModelOpts {
    table: Option<String>,
    app: Option<String>,
    verbose_name: Option<String>,
    verbose_name_plural: Option<String>,
    clean: Option<syn::Path>,
    display: Option<Display>,
    ordering: Option<LitStr>,
    constraints: Vec<ConstraintOpt>,
}

/// A table-level constraint as written on the struct.
struct ConstraintOpt {
    /// `unique`, `index` or `check`.
    kind: &'static str,
    name: Option<String>,
    fields: Vec<String>,
    /// The condition of a unique constraint, or a check's expression.
    sql: Option<String>,
    span: Span,
}

fn field_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

/// `unique(fields = "a, b", name = "..", condition = "..")`, `index(fields
/// = "a, b", name = "..")`, `check(name = "..", sql = "..")`.
fn constraint_opt(
    meta: &syn::meta::ParseNestedMeta<'_>,
    kind: &'static str,
) -> syn::Result<ConstraintOpt> {
    let mut c = ConstraintOpt {
        kind,
        name: None,
        fields: Vec::new(),
        sql: None,
        span: meta.path.span(),
    };
    meta.parse_nested_meta(|inner| {
        let value = inner.value()?.parse::<LitStr>()?.value();
        let p = &inner.path;
        if p.is_ident("name") {
            c.name = Some(value);
        } else if p.is_ident("fields") && kind != "check" {
            c.fields = field_list(&value);
        } else if (p.is_ident("condition") && kind == "unique")
            || (p.is_ident("sql") && kind == "check")
        {
            c.sql = Some(value);
        } else {
            let expected = match kind {
                "unique" => "fields, name, condition",
                "index" => "fields, name",
                _ => "name, sql",
            };
            return Err(inner.error(format!(
                "unknown option of {kind}(..); expected one of: {expected}"
            )));
        }
        Ok(())
    })?;
    let missing = match kind {
        "check" if c.name.is_none() || c.sql.is_none() => Some(
            "check(..) needs a name and sql: check(name = \"views_positive\", sql = \"views >= 0\")",
        ),
        "unique" | "index" if c.fields.is_empty() => {
            Some("list the fields: fields = \"author, slug\"")
        }
        _ => None,
    };
    match missing {
        Some(message) => Err(syn::Error::new(c.span, message)),
        None => Ok(c),
    }
}

/// How a model shows itself (`#[tack(display = "{title}")]` or `#[tack(display)]`).
enum Display {
    /// A template of literal text and `{field}` placeholders.
    Template(LitStr),
    /// The model's own `std::fmt::Display`.
    Trait,
}

fn model_opts(attrs: &[syn::Attribute]) -> syn::Result<ModelOpts> {
    let mut o = ModelOpts {
        table: None,
        app: None,
        verbose_name: None,
        verbose_name_plural: None,
        clean: None,
        display: None,
        ordering: None,
        constraints: Vec::new(),
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("tack")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("display") && meta.input.is_empty()
                || meta.input.peek(syn::Token![,])
            {
                if !meta.path.is_ident("display") {
                    return Err(meta.error("this tack model option needs a value: name = \"...\""));
                }
                o.display = Some(Display::Trait);
                return Ok(());
            }
            for kind in ["unique", "index", "check"] {
                if meta.path.is_ident(kind) && meta.input.peek(syn::token::Paren) {
                    o.constraints.push(constraint_opt(&meta, kind)?);
                    return Ok(());
                }
            }
            let value = meta.value()?.parse::<LitStr>()?;
            let p = &meta.path;
            if p.is_ident("table") {
                o.table = Some(value.value());
            } else if p.is_ident("app") {
                o.app = Some(value.value());
            } else if p.is_ident("verbose_name") {
                o.verbose_name = Some(value.value());
            } else if p.is_ident("verbose_name_plural") {
                o.verbose_name_plural = Some(value.value());
            } else if p.is_ident("clean") {
                o.clean = Some(value.parse()?);
            } else if p.is_ident("display") {
                o.display = Some(Display::Template(value));
            } else if p.is_ident("ordering") {
                o.ordering = Some(value);
            } else if p.is_ident("unique_together") {
                o.constraints.push(ConstraintOpt {
                    kind: "unique",
                    name: None,
                    fields: field_list(&value.value()),
                    sql: None,
                    span: value.span(),
                });
            } else {
                return Err(meta.error(
                    "unknown tack model option; expected one of: table, app, verbose_name, verbose_name_plural, \
                     clean, display, ordering, unique_together, unique(..), index(..), check(..)",
                ));
            }
            Ok(())
        })?;
    }
    Ok(o)
}

enum Shape {
    Plain,
    Relation { target: Type, one_to_one: bool },
    ManyToMany { target: Type },
    Reverse { target: Type },
}

fn model(input: DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Model)] does not support generic structs",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Model)] works on structs with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Model)] works on structs with named fields",
        ));
    };
    let opts = model_opts(&input.attrs)?;
    let model_snake = snake(&name.to_string());
    let app = opts.app.clone().unwrap_or_default();
    let table = opts.table.clone().unwrap_or_else(|| {
        if app.is_empty() {
            model_snake.clone()
        } else {
            format!("{app}_{model_snake}")
        }
    });
    let verbose = opts
        .verbose_name
        .clone()
        .unwrap_or_else(|| words(&name.to_string()));
    let plural = opts
        .verbose_name_plural
        .clone()
        .unwrap_or_else(|| format!("{verbose}s"));
    let name_str = name.to_string();

    let mut field_metas = Vec::new();
    let mut m2m_metas = Vec::new();
    let mut reverse_metas = Vec::new();
    let mut from_row = Vec::new();
    let mut to_values = Vec::new();
    let mut get_arms = Vec::new();
    let mut set_arms = Vec::new();
    let mut related_arms = Vec::new();
    let mut consts = Vec::new();
    let mut accessors = Vec::new();
    let mut helpers = Vec::new();
    let mut reverse = Vec::new();
    let mut pk: Option<(usize, Ident, Type)> = None;
    let mut id_field: Option<(usize, Ident, Type)> = None;
    let mut column_index = 0usize;
    let mut pk_name = String::from("id");
    let mut stored = Vec::new();
    for field in &named.named {
        if field_opts(&field.attrs)?.primary_key {
            pk_name = field
                .ident
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
        }
    }

    for field in &named.named {
        let ident = field
            .ident
            .clone()
            .ok_or_else(|| syn::Error::new(field.span(), "a named field"))?;
        let fname = ident.to_string();
        let ty = &field.ty;
        let o = field_opts(&field.attrs)?;
        let inner = option_inner(ty).unwrap_or(ty);
        let nullable = option_inner(ty).is_some();
        let shape = match last_ident(inner).as_deref() {
            Some(kind @ ("ForeignKey" | "OneToOne")) => Shape::Relation {
                target: generic_of(inner, kind).cloned().ok_or_else(|| {
                    syn::Error::new_spanned(inner, "write the target model: ForeignKey<Author>")
                })?,
                one_to_one: kind == "OneToOne",
            },
            Some("Reverse") => Shape::Reverse {
                target: generic_of(inner, "Reverse").cloned().ok_or_else(|| {
                    syn::Error::new_spanned(inner, "write the referring model: Reverse<Article>")
                })?,
            },
            Some("ManyToMany") => {
                if nullable {
                    return Err(syn::Error::new_spanned(
                        ty,
                        "a ManyToMany field cannot be an Option",
                    ));
                }
                Shape::ManyToMany {
                    target: generic_of(inner, "ManyToMany").cloned().ok_or_else(|| {
                        syn::Error::new_spanned(inner, "write the target model: ManyToMany<Tag>")
                    })?,
                }
            }
            _ => Shape::Plain,
        };
        let const_name = format_ident!("{}", fname.to_uppercase());
        let fverbose = o
            .verbose_name
            .clone()
            .unwrap_or_else(|| fname.replace('_', " "));
        if let Shape::Reverse { target } = &shape {
            let related_field = o
                .related_field
                .clone()
                .unwrap_or_else(|| model_snake.clone());
            reverse_metas.push(quote! {
                __t::ReverseMeta {
                    name: #fname,
                    source: <#target as __t::Model>::meta,
                    field: #related_field,
                }
            });
            from_row.push(quote! { #ident: ::core::default::Default::default() });
            related_arms.push(
                quote! { #fname => __t::RelatedField::set_related(&mut self.#ident, related) },
            );
            continue;
        }
        if let Shape::ManyToMany { target } = &shape {
            let target_snake = snake(&last_ident(target).unwrap_or_default());
            let (source_col, target_col) = if target_snake == model_snake {
                (
                    format!("from_{model_snake}_id"),
                    format!("to_{target_snake}_id"),
                )
            } else {
                (format!("{model_snake}_id"), format!("{target_snake}_id"))
            };
            let join_table = o
                .join_table
                .clone()
                .unwrap_or_else(|| format!("{table}_{fname}"));
            let index = m2m_metas.len();
            m2m_metas.push(quote! {
                __t::ManyToManyMeta {
                    name: #fname,
                    target: <#target as __t::Model>::meta,
                    join_table: #join_table,
                    source_column: #source_col,
                    target_column: #target_col,
                    verbose_name: #fverbose,
                }
            });
            from_row.push(quote! { #ident: ::core::default::Default::default() });
            related_arms.push(
                quote! { #fname => __t::RelatedField::set_related(&mut self.#ident, related) },
            );
            accessors.push((ident.clone(), target.clone(), index));
            consts.push(quote! {
                #[doc = concat!("The `", #fname, "` many-to-many relation, for filters (by the target's primary key).")]
                pub const #const_name: __t::Column<#name, <#target as __t::Model>::Pk> = __t::Column::new(#fname);
            });
            continue;
        }

        stored.push(ident.clone());
        let is_pk = fname == pk_name;
        let idx = column_index;
        column_index += 1;
        if o.primary_key {
            if pk.is_some() {
                return Err(syn::Error::new_spanned(
                    &ident,
                    "only one field can be the primary key",
                ));
            }
            pk = Some((idx, ident.clone(), ty.clone()));
        }
        if fname == "id" && !o.primary_key {
            id_field = Some((idx, ident.clone(), ty.clone()));
        }
        let column = o.db_column.clone().unwrap_or_else(|| match shape {
            Shape::Relation { .. } => format!("{fname}_id"),
            _ => fname.clone(),
        });
        let (lookup_ty, relation) = match &shape {
            Shape::Relation { target, one_to_one } => {
                let kind = if *one_to_one {
                    quote!(OneToOne)
                } else {
                    quote!(ForeignKey)
                };
                let on_delete = match o.on_delete.as_ref().map(|(s, span)| (s.as_str(), *span)) {
                    None | Some(("cascade", _)) => quote!(Cascade),
                    Some(("set_null", span)) => {
                        if !nullable {
                            return Err(syn::Error::new(
                                span,
                                "on_delete = \"set_null\" needs an Option<ForeignKey<..>> field",
                            ));
                        }
                        quote!(SetNull)
                    }
                    Some(("protect", _)) => quote!(Protect),
                    Some(("restrict", _)) => quote!(Restrict),
                    Some(("do_nothing", _)) => quote!(DoNothing),
                    Some(("set_default", span)) => {
                        if o.default.is_none() {
                            return Err(syn::Error::new(
                                span,
                                "on_delete = \"set_default\" needs a default: #[tack(default = ForeignKey::new(1))]",
                            ));
                        }
                        quote!(SetDefault)
                    }
                    Some((_, span)) => {
                        return Err(syn::Error::new(
                            span,
                            "on_delete is one of: cascade, set_null, protect, restrict, set_default, do_nothing",
                        ));
                    }
                };
                let related = match &o.related_name {
                    Some(r) => quote!(::core::option::Option::Some(#r)),
                    None => quote!(::core::option::Option::None),
                };
                if let Some(related_name) = &o.related_name {
                    let method = format_ident!("{}", related_name);
                    reverse.push(quote! {
                        impl #target {
                            #[doc = concat!("The `", #name_str, "` rows whose `", #fname, "` is this object.")]
                            pub fn #method(&self) -> __t::QuerySet<#name> {
                                __t::QuerySet::<#name>::new().filter(__t::Q::lookup(
                                    #fname,
                                    __t::Lookup::Exact,
                                    __t::ToValue::to_value(&<#target as __t::Model>::pk(self)),
                                ))
                            }
                        }
                    });
                }
                related_arms.push(
                    quote! { #fname => __t::RelatedField::set_related(&mut self.#ident, related) },
                );
                (
                    quote!(<#target as __t::Model>::Pk),
                    quote!(::core::option::Option::Some(__t::Relation {
                        kind: __t::RelationKind::#kind,
                        target: <#target as __t::Model>::meta,
                        on_delete: __t::OnDelete::#on_delete,
                        related_name: #related,
                    })),
                )
            }
            _ => {
                if o.on_delete.is_some() || o.related_name.is_some() {
                    return Err(syn::Error::new_spanned(
                        &ident,
                        "on_delete and related_name apply to ForeignKey and OneToOne fields",
                    ));
                }
                (quote!(#inner), quote!(::core::option::Option::None))
            }
        };
        let max_length = match (o.max_length, o.format) {
            (Some(n), _) => quote!(::core::option::Option::Some(#n)),
            (None, Some((format, _))) => {
                let format = format_ident!("{}", format);
                quote!(::core::option::Option::Some(__t::TextFormat::#format.default_max_length()))
            }
            // Django's FileField: names up to 100 characters.
            (None, None) if o.file.is_some() => quote!(::core::option::Option::Some(100u32)),
            (None, None) => quote!(::core::option::Option::None),
        };
        let default = match &o.default {
            Some(expr) => {
                let f = format_ident!("__default_{}", ident);
                helpers.push(quote! {
                    fn #f() -> __t::Value {
                        let value: #ty = ::core::convert::Into::into(#expr);
                        __t::ToValue::to_value(&value)
                    }
                });
                quote!(::core::option::Option::Some(#f))
            }
            None => quote!(::core::option::Option::None),
        };
        let validator = match &o.validate {
            Some(path) => {
                let f = format_ident!("__validate_{}", ident);
                helpers.push(quote! {
                    fn #f(value: &__t::Value) -> ::core::result::Result<(), ::std::string::String> {
                        let typed: #ty = __t::FromValue::from_value(value.clone()).map_err(|e| e.to_string())?;
                        #path(&typed)
                    }
                });
                quote!(::core::option::Option::Some(#f))
            }
            None => quote!(::core::option::Option::None),
        };
        let choices = if o.choices {
            quote!(<#inner as __t::Choices>::CHOICES)
        } else {
            quote!(&[])
        };
        let help = o.help_text.clone().unwrap_or_default();
        let unique = o.unique;
        let index = o.index;
        let blank = o.blank || nullable;
        let auto = is_pk && matches!(last_ident(ty).as_deref(), Some("i64" | "i32"));
        let auto_now = match o.auto_now {
            Some((when, span)) => {
                if !matches!(last_ident(inner).as_deref(), Some("DateTime" | "NaiveDate")) {
                    return Err(syn::Error::new(
                        span,
                        "auto_now and auto_now_add apply to DateTime<Utc> and NaiveDate fields",
                    ));
                }
                let when = format_ident!("{}", when);
                quote!(::core::option::Option::Some(__t::AutoNow::#when))
            }
            None => quote!(::core::option::Option::None),
        };
        let editable = o.editable.unwrap_or(o.auto_now.is_none()) && !auto;
        let format = match o.format {
            Some((format, span)) => {
                if last_ident(inner).as_deref() != Some("String") {
                    return Err(syn::Error::new(
                        span,
                        "slug, email and url apply to String fields",
                    ));
                }
                let format = format_ident!("{}", format);
                quote!(::core::option::Option::Some(__t::TextFormat::#format))
            }
            None => quote!(::core::option::Option::None),
        };
        let file = file_rules(&o, inner)?;
        field_metas.push(quote! {
            __t::FieldMeta {
                name: #fname,
                column: #column,
                kind: <#ty as __t::FieldType>::KIND,
                primary_key: #is_pk,
                auto: #auto,
                null: <#ty as __t::FieldType>::NULLABLE,
                blank: #blank,
                unique: #unique,
                index: #index,
                max_length: #max_length,
                default: #default,
                choices: #choices,
                verbose_name: #fverbose,
                help_text: #help,
                relation: #relation,
                validator: #validator,
                auto_now: #auto_now,
                editable: #editable,
                format: #format,
                file: #file,
            }
        });
        from_row
            .push(quote! { #ident: __t::__private::field(row, offset + #idx, #name_str, #fname)? });
        to_values.push(quote! { __t::ToValue::to_value(&self.#ident) });
        get_arms.push(
            quote! { #fname => ::core::option::Option::Some(__t::ToValue::to_value(&self.#ident)) },
        );
        set_arms.push(quote! {
            #fname => {
                self.#ident = __t::__private::convert::<#ty>(value, #name_str, #fname)?;
                ::core::result::Result::Ok(())
            }
        });
        consts.push(quote! {
            #[doc = concat!("The `", #fname, "` field, for filters, ordering and updates.")]
            pub const #const_name: __t::Column<#name, #lookup_ty> = __t::Column::new(#fname);
        });
    }

    let Some((pk_index, pk_ident, pk_ty)) = pk.or(id_field) else {
        return Err(syn::Error::new_spanned(
            name,
            "a model needs a primary key: add `id: i64` (assigned by the database) or mark a field #[tack(primary_key)]",
        ));
    };
    let fields_tokens = field_metas;
    let field_count = fields_tokens.len();
    let m2m_count = m2m_metas.len();
    let reverse_count = reverse_metas.len();
    let accessor_tokens: Vec<Tokens> = accessors
        .iter()
        .map(|(ident, target, index)| {
            quote! {
                #[doc = concat!("The `", stringify!(#ident), "` many-to-many relation of this object: add, remove, list.")]
                pub fn #ident(&self) -> __t::ManyRelated<#name, #target> {
                    __t::ManyRelated::new(__t::ToValue::to_value(&self.#pk_ident), &__M2M[#index])
                }
            }
        })
        .collect();
    let ordering = match &opts.ordering {
        Some(lit) => {
            for key in lit.value().split(',') {
                let name = key.trim().trim_start_matches('-');
                let first = name.split("__").next().unwrap_or_default();
                if !stored.iter().any(|f| f == first) {
                    return Err(syn::Error::new_spanned(
                        lit,
                        format!("ordering names {name:?}, which is not a stored field"),
                    ));
                }
            }
            lit.value()
        }
        None => String::new(),
    };
    let constraints = opts
        .constraints
        .iter()
        .map(|c| constraint_tokens(c, &table, &stored))
        .collect::<syn::Result<Vec<_>>>()?;
    let display = opts
        .display
        .as_ref()
        .map(|display| display_method(display, &stored))
        .transpose()?;
    let clean = opts.clean.as_ref().map(|path| {
        quote! {
            fn clean(&self, errors: &mut __t::ValidationErrors) {
                #path(self, errors)
            }
        }
    });

    Ok(quote! {
        const _: () = {
            use ::tack_orm as __t;

            #(#helpers)*

            static __FIELDS: [__t::FieldMeta; #field_count] = [#(#fields_tokens),*];
            static __M2M: [__t::ManyToManyMeta; #m2m_count] = [#(#m2m_metas),*];
            static __REVERSE: [__t::ReverseMeta; #reverse_count] = [#(#reverse_metas),*];
            static __META: __t::ModelMeta = __t::ModelMeta {
                name: #name_str,
                app: #app,
                table: #table,
                verbose_name: #verbose,
                verbose_name_plural: #plural,
                fields: &__FIELDS,
                pk: #pk_index,
                many_to_many: &__M2M,
                reverse: &__REVERSE,
                decode: __decode,
                set_related: __set_related,
                statements: __t::StatementCache::new(),
                ops: &__OPS,
                ordering: #ordering,
                constraints: &[#(#constraints),*],
            };
            static __OPS: __t::__private::TypedOps<#name> = __t::__private::TypedOps::new();

            fn __decode(row: &__t::Row<'_>, offset: usize) -> __t::Result<::std::boxed::Box<dyn ::core::any::Any + Send>> {
                ::core::result::Result::Ok(::std::boxed::Box::new(<#name as __t::Model>::from_row(row, offset)?))
            }

            fn __set_related(
                model: &mut dyn ::core::any::Any,
                field: &str,
                related: __t::Related,
            ) -> __t::Result<()> {
                match model.downcast_mut::<#name>() {
                    ::core::option::Option::Some(model) => __t::Model::set_related(model, field, related),
                    ::core::option::Option::None => ::core::result::Result::Err(__t::__private::wrong_model(#name_str)),
                }
            }

            impl __t::Model for #name {
                type Pk = #pk_ty;

                fn meta() -> &'static __t::ModelMeta {
                    &__META
                }

                fn from_row(row: &__t::Row<'_>, offset: usize) -> __t::Result<Self> {
                    ::core::result::Result::Ok(#name { #(#from_row),* })
                }

                fn to_values(&self) -> ::std::vec::Vec<__t::Value> {
                    ::std::vec![#(#to_values),*]
                }

                fn get_value(&self, field: &str) -> ::core::option::Option<__t::Value> {
                    match field {
                        #(#get_arms,)*
                        "pk" => ::core::option::Option::Some(__t::ToValue::to_value(&self.#pk_ident)),
                        _ => ::core::option::Option::None,
                    }
                }

                fn set_value(&mut self, field: &str, value: __t::Value) -> __t::Result<()> {
                    match field {
                        #(#set_arms)*
                        _ => ::core::result::Result::Err(__t::__private::unknown_field(&__META, field)),
                    }
                }

                fn pk(&self) -> #pk_ty {
                    ::core::clone::Clone::clone(&self.#pk_ident)
                }

                #[allow(unreachable_code, unused_variables)]
                fn set_related(&mut self, field: &str, related: __t::Related) -> __t::Result<()> {
                    match field {
                        #(#related_arms,)*
                        _ => ::core::result::Result::Err(__t::__private::unknown_field(&__META, field)),
                    }
                }

                #clean

                #display
            }

            impl #name {
                #(#consts)*

                /// A query set over every row of this model.
                pub fn objects() -> __t::QuerySet<Self> {
                    __t::QuerySet::new()
                }

                #(#accessor_tokens)*
            }

            #(#reverse)*
        };
    })
}

/// A `Constraint` literal; its fields must be stored fields, and unnamed
/// ones are named after the table and fields (`blog_post_author_slug_uniq`).
fn constraint_tokens(c: &ConstraintOpt, table: &str, stored: &[Ident]) -> syn::Result<Tokens> {
    for field in &c.fields {
        if !stored.iter().any(|f| f == field) {
            let names: Vec<String> = stored.iter().map(ToString::to_string).collect();
            return Err(syn::Error::new(
                c.span,
                format!(
                    "{}(..) names {field:?}, which is not a stored field (they are: {})",
                    c.kind,
                    names.join(", ")
                ),
            ));
        }
    }
    let suffix = if c.kind == "unique" { "uniq" } else { "idx" };
    let name = c
        .name
        .clone()
        .unwrap_or_else(|| format!("{table}_{}_{suffix}", c.fields.join("_")));
    let fields = &c.fields;
    let sql = match &c.sql {
        Some(sql) => quote!(::core::option::Option::Some(#sql)),
        None => quote!(::core::option::Option::None),
    };
    let kind = match c.kind {
        "unique" => {
            quote!(__t::ConstraintKind::Unique { fields: &[#(#fields),*], condition: #sql })
        }
        "index" => quote!(__t::ConstraintKind::Index { fields: &[#(#fields),*] }),
        _ => {
            let check = c.sql.clone().unwrap_or_default();
            quote!(__t::ConstraintKind::Check { sql: #check })
        }
    };
    Ok(quote!(__t::Constraint { name: #name, kind: #kind }))
}

/// The `display` method of `Model` for a model's `display` option: a
/// template's placeholders must name stored fields.
fn display_method(display: &Display, stored: &[Ident]) -> syn::Result<Tokens> {
    let template = match display {
        Display::Trait => {
            return Ok(quote! {
                fn display(&self) -> ::std::string::String {
                    ::std::string::ToString::to_string(self)
                }
            });
        }
        Display::Template(template) => template,
    };
    let text = template.value();
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let Some(field) = stored.iter().find(|f| *f == name.trim()) else {
                    let names: Vec<String> = stored.iter().map(ToString::to_string).collect();
                    return Err(syn::Error::new_spanned(
                        template,
                        format!(
                            "display names {{{name}}}, which is not a stored field (they are: {})",
                            names.join(", ")
                        ),
                    ));
                };
                if !literal.is_empty() {
                    let text = std::mem::take(&mut literal);
                    parts.push(quote! { out.push_str(#text); });
                }
                parts.push(quote! {
                    __t::__private::display_value(&mut out, &__t::ToValue::to_value(&self.#field));
                });
            }
            '}' => {
                return Err(syn::Error::new_spanned(
                    template,
                    "a lone `}` in display: write `}}` for a brace",
                ));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(quote! { out.push_str(#literal); });
    }
    Ok(quote! {
        fn display(&self) -> ::std::string::String {
            let mut out = ::std::string::String::new();
            #(#parts)*
            out
        }
    })
}

fn choices(input: DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Choices)] works on enums whose variants have no fields",
        ));
    };
    let mut stored = Vec::new();
    let mut labels = Vec::new();
    let mut variants = Vec::new();
    let mut numbers = Vec::new();
    let integer = data.variants.iter().any(|v| v.discriminant.is_some());
    for variant in &data.variants {
        if integer {
            let number = match &variant.discriminant {
                Some((
                    _,
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }),
                )) => n.base10_parse::<i64>()?,
                Some((
                    _,
                    Expr::Unary(syn::ExprUnary {
                        op: syn::UnOp::Neg(_),
                        expr,
                        ..
                    }),
                )) if matches!(
                    &**expr,
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(_),
                        ..
                    })
                ) =>
                {
                    let Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }) = &**expr
                    else {
                        unreachable!("matched above")
                    };
                    -n.base10_parse::<i64>()?
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        variant,
                        "integer choices need a number on every variant: `Low = 1`",
                    ));
                }
            };
            numbers.push(number);
        }
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                variant,
                "#[derive(Choices)] variants cannot have fields",
            ));
        }
        let mut value = snake(&variant.ident.to_string());
        let mut label = words(&variant.ident.to_string());
        if let Some(first) = label.get(..1) {
            label = format!("{}{}", first.to_uppercase(), &label[1..]);
        }
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("tack")) {
            attr.parse_nested_meta(|meta| {
                let lit = meta.value()?.parse::<LitStr>()?;
                if meta.path.is_ident("value") && integer {
                    return Err(
                        meta.error("integer choices are stored as their number: drop `value`")
                    );
                } else if meta.path.is_ident("value") {
                    value = lit.value();
                } else if meta.path.is_ident("label") {
                    label = lit.value();
                } else {
                    return Err(meta.error("unknown tack choice option; expected value or label"));
                }
                Ok(())
            })?;
        }
        stored.push(match numbers.last() {
            Some(n) if integer => n.to_string(),
            _ => value,
        });
        labels.push(label);
        variants.push(variant.ident.clone());
    }
    let name_str = name.to_string();
    let storage = if integer {
        quote! {
            impl __t::ToValue for #name {
                fn to_value(&self) -> __t::Value {
                    __t::Value::I64(match self {
                        #(#name::#variants => #numbers,)*
                    })
                }
            }

            impl __t::FromValue for #name {
                fn from_value(value: __t::Value) -> ::core::result::Result<Self, __t::ValueError> {
                    let number = <i64 as __t::FromValue>::from_value(value.clone())?;
                    match number {
                        #(#numbers => ::core::result::Result::Ok(#name::#variants),)*
                        _ => ::core::result::Result::Err(__t::ValueError::new(concat!("one of the ", #name_str, " choices"), &value)),
                    }
                }
            }

            impl __t::FieldType for #name {
                const KIND: __t::FieldKind = __t::FieldKind::I64;
            }
        }
    } else {
        quote! {
            impl __t::ToValue for #name {
                fn to_value(&self) -> __t::Value {
                    __t::Value::Text(::std::string::String::from(__t::Choices::as_str(self)))
                }
            }

            impl __t::FromValue for #name {
                fn from_value(value: __t::Value) -> ::core::result::Result<Self, __t::ValueError> {
                    match &value {
                        __t::Value::Text(text) => <#name as __t::Choices>::from_str_value(text)
                            .ok_or_else(|| __t::ValueError::new(concat!("one of the ", #name_str, " choices"), &value)),
                        _ => ::core::result::Result::Err(__t::ValueError::new("text", &value)),
                    }
                }
            }

            impl __t::FieldType for #name {
                const KIND: __t::FieldKind = __t::FieldKind::Text;
            }
        }
    };
    Ok(quote! {
        const _: () = {
            use ::tack_orm as __t;

            impl __t::Choices for #name {
                const CHOICES: &'static [(&'static str, &'static str)] = &[#((#stored, #labels)),*];

                fn as_str(&self) -> &'static str {
                    match self {
                        #(#name::#variants => #stored,)*
                    }
                }

                fn from_str_value(text: &str) -> ::core::option::Option<Self> {
                    match text {
                        #(#stored => ::core::option::Option::Some(#name::#variants),)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #storage

            impl ::core::convert::From<#name> for __t::Value {
                fn from(choice: #name) -> __t::Value {
                    __t::ToValue::to_value(&choice)
                }
            }
        };
    })
}
