# The quick start: renew one certificate against the local nicsrs-sandbox.
# scripts/quickstart.sh sets everything up and runs `terraform apply` here.

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

output "cert_id" {
  value = nicsrs_certificate_renewal.web.cert_id
}

output "dns_records" {
  description = "The CNAME records that validate the order."
  value       = nicsrs_certificate_renewal.web.dns_records
}
