//! `data "nicsrs_certificate"`: everything `/ssl/collect` says about an order.

use std::sync::Arc;

use crate::plugin::{Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

use super::{dcv, issued, lifecycle, validate_cert_id, Shared};

pub const TYPE_NAME: &str = "nicsrs_certificate";

pub struct CertificateData {
    shared: Arc<Shared>,
}

impl CertificateData {
    pub fn new(shared: Arc<Shared>) -> CertificateData {
        CertificateData { shared }
    }
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Reads a NicSRS order: its status, domains, validation records, dates and, once issued, the certificate.")
            .attribute(Attribute::required("cert_id", Type::String, "The order's certificate ID."))
            .attribute(Attribute::computed("id", Type::String, "Same as `cert_id`."))
            .attribute(Attribute::computed("status", Type::String, "The order status: `PENDING`, `COMPLETE`, `CANCELLED`, …"))
            .attribute(Attribute::computed("domains", Type::list(Type::String), "The order's domains."))
            .attribute(Attribute::computed("dcv_records", Type::list(dcv::dcv_record_type()), dcv::DCV_RECORDS_DESCRIPTION))
            .attribute(Attribute::computed("begin_date", Type::String, "Start of the current certificate (`beginDate`), RFC 3339."))
            .attribute(Attribute::computed("end_date", Type::String, "End of the current certificate (`endDate`), RFC 3339."))
            .attribute(Attribute::computed(
                "due_date",
                Type::String,
                "End of the subscription (`dueDate`), RFC 3339; it can be later than `end_date`.",
            ))
            .attributes(issued::certificate_attributes()),
    )
}

#[tonic::async_trait]
impl DataSource for CertificateData {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_cert_id(config, diags);
    }

    async fn read(&self, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let client = self.shared.client(diags)?;
        let cert_id = config.get("cert_id").as_str().unwrap_or_default();
        let collected = match client.collect(cert_id).await {
            Ok(collected) => collected,
            Err(error) => {
                diags.error(
                    "Cannot read the order",
                    format!("Reading order {cert_id:?} failed: {error}"),
                );
                return None;
            }
        };
        let data = &collected.data;
        let domain_info = dcv::domain_info_of(data);
        let mut state = config.clone();
        state.set("id", cert_id.into());
        state.set("status", Value::opt_string(collected.status.clone()));
        state.set(
            "domains",
            Value::List(
                data.dcv_list
                    .iter()
                    .filter_map(|e| e.domain_name.clone())
                    .map(Value::String)
                    .collect(),
            ),
        );
        state.set("dcv_records", dcv::dcv_records(&domain_info, data));
        state.set(
            "begin_date",
            lifecycle::api_date(data.begin_date.as_deref()),
        );
        state.set("end_date", lifecycle::api_date(data.end_date.as_deref()));
        state.set("due_date", lifecycle::api_date(data.due_date.as_deref()));
        issued::set_certificate_fields(&mut state, data);
        Some(state)
    }
}
