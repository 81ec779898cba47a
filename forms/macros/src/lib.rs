//! The derive macro for tack-forms: `#[derive(Form)]`. Use it through
//! `tack_forms`, which re-exports it.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{
    Data, DeriveInput, Expr, Fields, Ident, LitStr, Path, Token, parse_macro_input,
    punctuated::Punctuated, spanned::Spanned,
};

/// Makes a struct a form: one form field per struct field. See the
/// `tack_forms` crate documentation for the options.
#[proc_macro_derive(Form, attributes(form))]
pub fn derive_form(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    form(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// What `#[form(...)]` says about one field.
struct FieldOptions {
    ident: Ident,
    ty: syn::Type,
    /// Calls chained onto the field's default `Field`.
    calls: Vec<Tokens>,
}

const FIELD_OPTIONS: &str = "label, help_text, initial, widget, attrs, max_length, min_length, min, \
     max, choices, validate, required, disabled, email, url, slug";

fn form(input: DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.span(),
            "#[derive(Form)] works on structs with named fields; an enum of choices belongs in `choices = ...` on a field",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(
            data.fields.span(),
            "#[derive(Form)] needs named fields: each becomes a form field of that name",
        ));
    };
    let clean = container_clean(&input.attrs)?;
    let fields = named
        .named
        .iter()
        .map(field_options)
        .collect::<syn::Result<Vec<_>>>()?;

    let specs = fields.iter().map(|f| {
        let ty = &f.ty;
        let field_name = f.ident.to_string();
        let calls = &f.calls;
        quote! { <#ty as ::tack_forms::FormValue>::field(#field_name) #(.#calls)* }
    });
    let idents: Vec<&Ident> = fields.iter().map(|f| &f.ident).collect();
    let takes = fields.iter().map(|f| {
        let ident = &f.ident;
        let ty = &f.ty;
        let field_name = f.ident.to_string();
        quote! { let #ident = cleaned.take::<#ty>(#field_name); }
    });
    let clean_fn = clean.map(|path| {
        quote! {
            fn clean(&mut self, errors: &mut ::tack_forms::Errors) {
                #path(self, errors)
            }
        }
    });
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::tack_forms::Form for #name #ty_generics #where_clause {
            fn fields() -> ::std::vec::Vec<::tack_forms::Field> {
                ::std::vec![#(#specs),*]
            }

            fn from_cleaned(cleaned: &mut ::tack_forms::Cleaned<'_>) -> ::std::option::Option<Self> {
                #(#takes)*
                ::std::option::Option::Some(Self { #(#idents: #idents?),* })
            }

            #clean_fn
        }
    })
}

/// `#[form(clean = path)]` on the struct: a `fn(&mut Self, &mut Errors)`
/// run once every field is valid.
fn container_clean(attrs: &[syn::Attribute]) -> syn::Result<Option<Path>> {
    let mut clean = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("form")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("clean") {
                clean = Some(meta.value()?.parse::<Path>()?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown form option: on the struct, `clean = path::to::function` (a fn(&mut Self, &mut tack_forms::Errors)) is the one option",
                ))
            }
        })?;
    }
    Ok(clean)
}

fn field_options(field: &syn::Field) -> syn::Result<FieldOptions> {
    let ident = field.ident.clone().expect("named fields have names");
    let mut calls = Vec::new();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("form")) {
        attr.parse_nested_meta(|meta| {
            let Some(option) = meta.path.get_ident().map(Ident::to_string) else {
                return Err(meta.error(format!(
                    "unknown form option; the options are {FIELD_OPTIONS}"
                )));
            };
            match option.as_str() {
                "label" | "help_text" | "initial" => {
                    let text: LitStr = meta.value()?.parse()?;
                    let method = Ident::new(&option, meta.path.span());
                    calls.push(quote! { #method(#text) });
                }
                "widget" => {
                    let text: LitStr = meta.value()?.parse()?;
                    let widget = text.value();
                    if !WIDGETS.contains(&widget.as_str()) {
                        return Err(syn::Error::new(
                            text.span(),
                            format!(
                                "unknown widget `{widget}`; the widgets are {}",
                                WIDGETS.join(", ")
                            ),
                        ));
                    }
                    calls.push(quote! { widget(::tack_forms::Widget::named(#text)) });
                }
                "max_length" | "min_length" => {
                    let n: Expr = meta.value()?.parse()?;
                    let method = Ident::new(&option, meta.path.span());
                    calls.push(quote! { #method((#n) as usize) });
                }
                "min" | "max" => {
                    let bound: Expr = meta.value()?.parse()?;
                    let method = Ident::new(&option, meta.path.span());
                    calls.push(quote! { #method((#bound) as f64) });
                }
                "choices" => {
                    let choices: Expr = meta.value()?.parse()?;
                    calls.push(quote! { choices(#choices) });
                }
                "attrs" => {
                    let attrs: Expr = meta.value()?.parse()?;
                    calls.push(quote! { attrs(#attrs) });
                }
                "validate" => {
                    let paths = if meta.input.peek(Token![=]) {
                        let path: Path = meta.value()?.parse()?;
                        vec![path]
                    } else {
                        let content;
                        syn::parenthesized!(content in meta.input);
                        Punctuated::<Path, Token![,]>::parse_terminated(&content)?
                            .into_iter()
                            .collect()
                    };
                    for path in paths {
                        calls.push(quote! { validator(#path) });
                    }
                }
                "required" | "disabled" => {
                    let method = Ident::new(&option, meta.path.span());
                    calls.push(quote! { #method(true) });
                }
                "email" | "url" | "slug" => {
                    let kind = Ident::new(
                        match option.as_str() {
                            "email" => "Email",
                            "url" => "Url",
                            _ => "Slug",
                        },
                        meta.path.span(),
                    );
                    calls.push(quote! { kind(::tack_forms::FieldKind::#kind) });
                }
                other => {
                    return Err(meta.error(format!(
                        "unknown form option `{other}`; the options are {FIELD_OPTIONS}"
                    )));
                }
            }
            Ok(())
        })?;
    }
    Ok(FieldOptions {
        ident,
        ty: field.ty.clone(),
        calls,
    })
}

/// The widget names `widget = "..."` accepts (each is a template
/// `forms/widgets/NAME.html`).
const WIDGETS: &[&str] = &[
    "text",
    "textarea",
    "password",
    "hidden",
    "email",
    "url",
    "number",
    "checkbox",
    "date",
    "datetime",
    "time",
    "select",
    "select_multiple",
    "radio",
    "checkboxes",
    "file",
    "clearable_file",
];
