//! `data "nicsrs_certificate"`: everything `/ssl/collect` says about an order.

use std::sync::Arc;

use tfplugin::{Attribute, Block, DataSource, Diagnostics, Field, Model, Schema, Type, Value};

use super::models::{self, decode};
use super::{dcv, issued, lifecycle, validators, Shared};

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
            .attribute(Attribute::required("cert_id", Type::String, "The order's certificate ID.").validate_with(validators::cert_id()))
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

#[tfplugin::async_trait]
impl DataSource for CertificateData {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let mut state: models::CertificateData = decode(config, diags)?;
        let client = self.shared.client(diags)?;
        let cert_id = state.cert_id.known().cloned().unwrap_or_default();
        let collected = match client.collect(&cert_id).await {
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
        state.id = Field::Known(cert_id);
        state.status = collected.status.clone().into();
        state.domains = Field::Known(
            data.dcv_list
                .iter()
                .filter_map(|e| e.domain_name.clone())
                .collect(),
        );
        state.dcv_records = Field::Known(dcv::dcv_records(&domain_info, data));
        state.begin_date = lifecycle::api_date(data.begin_date.as_deref());
        state.end_date = lifecycle::api_date(data.end_date.as_deref());
        state.due_date = lifecycle::api_date(data.due_date.as_deref());
        state.set_issued(issued::issued(data));
        Some(state.encode())
    }
}
