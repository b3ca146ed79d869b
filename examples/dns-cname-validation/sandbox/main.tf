# Renewal → DNS records → validation → issued certificate, in one apply,
# against nicsrs-sandbox. The "DNS provider" here is the sandbox's DNS admin
# endpoint, driven by a local-exec provisioner; with a real DNS provider it
# is one resource per record (see ../route53).

terraform {
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
  type    = string
  default = "1234567"
}

variable "dns_value_override" {
  type        = string
  default     = ""
  description = "Publish this value instead of the expected one (to see a validation fail)."
}

variable "validation_timeout" {
  type    = string
  default = "5m"
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

  # The sandbox's stand-in for `aws_route53_record` with
  # `for_each = self.dns_records`: publish every record.
  provisioner "local-exec" {
    command = "python3 ${path.module}/create_dns_records.py"
    environment = {
      SANDBOX_URL        = var.nicsrs_base_url
      DNS_RECORDS        = jsonencode(self.dns_records)
      DNS_VALUE_OVERRIDE = var.dns_value_override
    }
  }
}

resource "nicsrs_certificate_validation" "web" {
  cert_id               = nicsrs_certificate_renewal.web.cert_id
  poll_interval_seconds = 2

  timeouts {
    create = var.validation_timeout
  }
}

data "nicsrs_certificate" "issued" {
  cert_id = nicsrs_certificate_validation.web.cert_id
}

output "cert_id" {
  value = nicsrs_certificate_renewal.web.cert_id
}

output "certificate_pem" {
  value = nicsrs_certificate_validation.web.certificate_pem
}

output "not_after" {
  value = nicsrs_certificate_validation.web.not_after
}

output "data_status" {
  value = data.nicsrs_certificate.issued.status
}

output "data_certificate_pem" {
  value = data.nicsrs_certificate.issued.certificate_pem
}

output "names" {
  description = "The domains the certificate is for."
  value       = data.nicsrs_certificate.issued.domains
}

output "serial_number" {
  value = data.nicsrs_certificate.issued.serial_number
}
