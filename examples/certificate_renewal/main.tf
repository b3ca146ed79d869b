# Renews certificate var.renew_id with every argument of the renew call:
# four domains, one per DCV method, organization, and all three contacts.
#
#   terraform apply -var nicsrs_base_url=http://127.0.0.1:8080 -var nicsrs_api_token=sandbox-token

terraform {
  required_providers {
    nicsrs = { source = "nicsrs/nicsrs" }
  }
}

variable "nicsrs_base_url" {
  type    = string
  default = "https://portal.nicsrs.com"
}

variable "nicsrs_api_token" {
  type      = string
  sensitive = true
}

variable "renew_id" {
  type    = string
  default = "1234567"
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
    domain_name = "*.example.com"
    dcv_method  = "EMAIL"
    dcv_email   = "admin@example.com"
  }
  domain_info {
    domain_name = "www.example.com"
    dcv_method  = "HTTP_CSR_HASH"
  }
  domain_info {
    domain_name = "api.example.com"
    dcv_method  = "HTTPS_CSR_HASH"
  }

  organization_info {
    name      = "Example Ltd"
    city      = "Shanghai"
    mobile    = "862100000000"
    address   = "1 Example Road"
    country   = "CN"
    post_code = "200000"
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

  finance {
    email      = "finance@example.com"
    first_name = "Li"
    country    = "CN"
  }

  tech {
    job          = "Engineer"
    email        = "tech@example.com"
    organization = "Example Ltd"
  }
}

output "cert_id" {
  value = nicsrs_certificate_renewal.web.cert_id
}

output "dcv_records" {
  value = nicsrs_certificate_renewal.web.dcv_records
}
