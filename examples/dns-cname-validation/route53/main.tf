# Renewal → Route 53 records → validation, in one apply (not run in tests:
# it needs AWS and the real NicSRS portal).

terraform {
  required_providers {
    nicsrs = { source = "nicsrs/nicsrs" }
    aws    = { source = "hashicorp/aws" }
  }
}

variable "nicsrs_api_token" {
  type      = string
  sensitive = true
}

variable "renew_id" {
  type = string
}

variable "zone_id" {
  type        = string
  description = "The Route 53 hosted zone of example.com."
}

provider "nicsrs" {
  api_token = var.nicsrs_api_token
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

# One record per distinct DNS name: `*.example.com` and `example.com` share
# the key "example.com". The keys are known at plan time.
resource "aws_route53_record" "dcv" {
  for_each = nicsrs_certificate_renewal.web.dns_records

  zone_id = var.zone_id
  name    = each.value.name
  type    = each.value.type
  records = [each.value.value]
  ttl     = 300
}

resource "nicsrs_certificate_validation" "web" {
  cert_id = nicsrs_certificate_renewal.web.cert_id

  # Wait only once every record exists.
  depends_on = [aws_route53_record.dcv]

  timeouts {
    create = "45m"
  }
}

output "certificate_pem" {
  value = nicsrs_certificate_validation.web.certificate_pem
}
