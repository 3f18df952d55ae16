# TAI's feature check (POST /v1/check, governor/decide-check.ts) in Rego, for the peers bench: OPA answers
# POST /v1/data/tai/check {"input": {"tenant": …, "feature": …}} with the same decision, over a data document
# generated from the policy TAI compiles (bench/peers/opa-data.ts). Only an absent feature or boolean false
# denies; every other value is allowed with its value. The rules are mutually exclusive, one per reason.
package tai

tenant := data.tenants[input.tenant]

check := {"op": "check", "tenant": input.tenant, "feature": input.feature, "allowed": false, "reason": "UnknownTenant"} if {
	not tenant
}

check := {"op": "check", "tenant": input.tenant, "feature": input.feature, "policy": tenant.digest, "allowed": false, "reason": "TenantSuspended"} if {
	tenant.suspended
}

check := {"op": "check", "tenant": input.tenant, "feature": input.feature, "policy": tenant.digest, "allowed": false, "reason": "FeatureNotEntitled"} if {
	tenant.suspended == false
	not input.feature in object.keys(tenant.features)
}

check := {"op": "check", "tenant": input.tenant, "feature": input.feature, "policy": tenant.digest, "allowed": false, "reason": "FeatureNotEntitled", "value": false} if {
	tenant.suspended == false
	tenant.features[input.feature] == false
}

check := {"op": "check", "tenant": input.tenant, "feature": input.feature, "policy": tenant.digest, "allowed": true, "reason": "Allowed", "value": value} if {
	tenant.suspended == false
	value := tenant.features[input.feature]
	value != false
}
