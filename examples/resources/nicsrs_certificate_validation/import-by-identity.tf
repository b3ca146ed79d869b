# Terraform 1.12 and later: the order's certId is the waiter's identity too,
# so it imports next to its renewal.
import {
  to       = nicsrs_certificate_validation.web
  identity = { cert_id = "2f1a9c0e5b7d4e31" }
}
