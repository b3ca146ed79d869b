# The waiter of an issued order (after a lost state, say) is imported by the
# order's certId; it reads the certificate and places nothing. An order not
# yet issued is refused: leave the waiter to Terraform, which waits for it.
terraform import nicsrs_certificate_validation.web 2f1a9c0e5b7d4e31
