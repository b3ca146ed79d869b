# Reads any order by its certId: its status, its domains and, once issued,
# the certificate. Reading places nothing.
data "nicsrs_certificate" "web" {
  cert_id = "2f1a9c0e5b7d4e31"
}

output "status" {
  value = data.nicsrs_certificate.web.status
}

output "expires" {
  value = data.nicsrs_certificate.web.not_after
}
