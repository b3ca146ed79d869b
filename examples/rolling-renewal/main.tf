# A certificate that keeps itself renewed: apply this on a schedule (see
# README.md). Each apply is a no-op until the certificate is within
# renew_before_days of expiry; then one apply places one renewal order,
# publishes its DNS records, waits for issuance and delivers the new
# certificate.
#
# Runnable against nicsrs-sandbox (Terraform 1.4 or later, for
# terraform_data). The DNS step posts to the sandbox's DNS endpoint; with a
# real DNS provider it is one record resource per entry of dns_records, e.g.
# aws_route53_record with for_each (see ../dns-cname-validation/route53).

terraform {
  # terraform_data (the DNS step) exists from Terraform 1.4.
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

  # Renew whenever the current certificate expires within 30 days.
  renew_before_days = 30

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

# One record per domain; a roll makes the records of the new order unknown
# at plan time, which replaces these and publishes them again.
resource "terraform_data" "dns_record" {
  for_each         = nicsrs_certificate_renewal.web.dns_records
  triggers_replace = each.value

  provisioner "local-exec" {
    command = "python3 ${path.module}/create_dns_records.py"
    environment = {
      SANDBOX_URL = var.nicsrs_base_url
      DNS_RECORDS = jsonencode({ (each.key) = self.triggers_replace })
    }
  }
}

# Its cert_id follows the renewal's, so after a roll it waits for the new
# order.
resource "nicsrs_certificate_validation" "web" {
  cert_id               = nicsrs_certificate_renewal.web.cert_id
  poll_interval_seconds = 2

  depends_on = [terraform_data.dns_record]
}

output "certificate_pem" {
  value = nicsrs_certificate_validation.web.certificate_pem
}

output "not_after" {
  value = nicsrs_certificate_validation.web.not_after
}
