terraform {
  required_providers {
    nicsrs = {
      source  = "nicsrs/nicsrs"
      version = "~> 0.2"
    }
  }
}

# The token comes from NICSRS_API_TOKEN: in CI, set it as a secret environment
# variable rather than passing it with -var, which writes it in clear text into
# saved plan files.
provider "nicsrs" {
  # base_url defaults to https://portal.nicsrs.com (or NICSRS_BASE_URL); point
  # it at a local nicsrs-sandbox to try things out without buying anything.
  request_timeout_seconds = 60
}
