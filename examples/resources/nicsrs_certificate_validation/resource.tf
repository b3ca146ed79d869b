resource "nicsrs_certificate_renewal" "web" {
  renew_id = "1234567"
  years    = 1
  csr      = file("${path.module}/web.csr")
  server   = "nginx"

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

# Waits until the CA has seen the records and issued the certificate. Make it
# depend on the DNS records that publish nicsrs_certificate_renewal.web.dns_records
# (for example depends_on = [aws_route53_record.dcv]; see the DNS guides).
resource "nicsrs_certificate_validation" "web" {
  cert_id = nicsrs_certificate_renewal.web.cert_id

  timeouts {
    create = "45m"
  }
}

output "certificate_pem" {
  value = nicsrs_certificate_validation.web.certificate_pem
}

output "not_after" {
  value = nicsrs_certificate_validation.web.not_after
}
