# Renews certificate 1234567 for one year with a new key. Applying places a
# paid order; the plan says so and shows the order's ref_id.
resource "nicsrs_certificate_renewal" "web" {
  renew_id = "1234567"
  years    = 1
  csr      = file("${path.module}/web.csr") # names example.com and www.example.com
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

# The DNS records that prove control of the domains, keyed by domain name:
# give them to your DNS resources with for_each (see the guides).
output "dns_records" {
  value = nicsrs_certificate_renewal.web.dns_records
}
