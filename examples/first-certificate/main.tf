# The quick start: from a renewal order to an issued certificate in one apply,
# against the local nicsrs-sandbox. scripts/quickstart.sh sets everything up
# and runs `terraform apply` here (Terraform 1.4 or later, for terraform_data;
# with older versions it applies ../dns-cname-validation/sandbox instead).
#
#   renewal ──dns_records──▶ one DNS record per domain (for_each)
#      └──cert_id──▶ validation (waits for issuance) ──▶ data source, outputs

terraform {
  required_version = ">= 1.4"
  required_providers {
    nicsrs = { source = "nicsrs/nicsrs" }
  }
}

variable "nicsrs_base_url" {
  type = string
}

variable "nicsrs_api_token" {
  type      = string
  sensitive = true
}

variable "renew_id" {
  type        = string
  description = "The certificate to renew; the quick start seeds one in the sandbox."
}

provider "nicsrs" {
  api_token = var.nicsrs_api_token
  base_url  = var.nicsrs_base_url
}

resource "nicsrs_certificate_renewal" "web" {
  renew_id = var.renew_id
  years    = 1
  csr      = file("${path.module}/web.csr")
  server   = "nginx"

  domain_info {
    domain_name = "example.com"
    dcv_method  = "CNAME_CSR_HASH"
  }
  domain_info {
    domain_name = "www.example.com"
    dcv_method  = "CNAME_CSR_HASH"
  }

  administrator {
    job          = "CTO"
    city         = "Shanghai"
    email        = "ops@example.com"
    state        = "Shanghai"
    mobile       = "18111111111"
    address      = "1 Example Road"
    country      = "CN"
    last_name    = "Zhang"
    post_code    = "401320"
    first_name   = "Nick"
    organization = "Example Ltd"
  }
}

# One DNS record per domain. With a real DNS provider this is its record
# resource with the same for_each (see docs/guides/); here each record is
# posted to the sandbox's DNS endpoint, which validates the order once every
# record matches.
resource "terraform_data" "dns_record" {
  for_each = nicsrs_certificate_renewal.web.dns_records
  input    = each.value

  provisioner "local-exec" {
    command = "python3 ${path.module}/publish_dns_record.py"
    environment = {
      SANDBOX_URL  = var.nicsrs_base_url
      RECORD_NAME  = self.input.name
      RECORD_TYPE  = self.input.type
      RECORD_VALUE = self.input.value
    }
  }
}

resource "nicsrs_certificate_validation" "web" {
  cert_id               = nicsrs_certificate_renewal.web.cert_id
  poll_interval_seconds = 2

  timeouts {
    create = "2m"
  }

  depends_on = [terraform_data.dns_record]
}

data "nicsrs_certificate" "issued" {
  cert_id = nicsrs_certificate_validation.web.cert_id
}

output "cert_id" {
  value = nicsrs_certificate_renewal.web.cert_id
}

output "dns_records" {
  description = "The records that validated the order."
  value       = nicsrs_certificate_renewal.web.dns_records
}

output "names" {
  description = "The domains the certificate is for."
  value       = data.nicsrs_certificate.issued.domains
}

output "not_after" {
  description = "When the certificate expires (RFC 3339)."
  value       = data.nicsrs_certificate.issued.not_after
}

output "serial_number" {
  value = data.nicsrs_certificate.issued.serial_number
}

output "certificate_pem" {
  value = nicsrs_certificate_validation.web.certificate_pem
}
