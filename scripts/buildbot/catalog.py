"""Copies a Runway catalog, making its first CI binding (Banking staging in the demo catalog)
deploy through a Buildbot master started from master.cfg next to this file; with `regions`, to
two regions (eu and us) in parallel.

    python3 catalog.py IN OUT BUILDBOT_URL PASSWORD_VARIABLE [regions]
"""
import sys

src, out, url, var = sys.argv[1:5]
regions = sys.argv[5:6] == ["regions"]
text = open(src, encoding="utf-8").read()
start = text.index("[applications.environments.ci]")
end = text.index("\n\n", start)
binding = f"""[applications.environments.ci]
connector = "buildbot"
settings = {{ url = "{url}", scheduler = "runway", user = "runway", password_env = "{var}" }}
provision = {{ job = "provision", params = {{ application = "{{application}}", environment = "{{environment}}", request_id = "{{request_id}}" }} }}
deploy = {{ job = "deploy", params = {{ application = "{{application}}", environment = "{{environment}}", version = "{{version}}", request_id = "{{request_id}}" }} }}"""
if regions:
    binding = f"""[applications.environments.ci]
connector = "buildbot"
settings = {{ url = "{url}", scheduler = "runway", user = "runway", password_env = "{var}" }}
run = "parallel"
"""
    for region in ["eu", "us"]:
        binding += f"""
[[applications.environments.ci.targets]]
id = "{region}"
provision = {{ job = "provision", params = {{ application = "{{application}}", environment = "{{environment}}", request_id = "{{request_id}}" }} }}
deploy = {{ job = "deploy", params = {{ application = "{{application}}", environment = "{{environment}}", version = "{{version}}", request_id = "{{request_id}}", region = "{{target}}" }} }}"""
with open(out, "w", encoding="utf-8") as f:
    f.write(text[:start] + binding + text[end:])
