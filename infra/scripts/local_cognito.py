"""The local stand-in for the deployment's Cognito user pool, in the emulator.

moto serves cognito-idp on the same port as DynamoDB (unsigned calls such as
InitiateAuth are routed by their X-Amz-Target; JWKS at
/{poolId}/.well-known/jwks.json; RS256 tokens).

  local_cognito.py setup URL         a fresh user pool shaped like template.yaml's,
                                     its public app client and the demo account;
                                     prints them as JSON (with the password)
  local_cognito.py jwks URL POOL_ID  the pool's JSON Web Key Set
  local_cognito.py signin URL CLIENT an access token for APP_UPGRADE_USERNAME /
                                     APP_UPGRADE_PASSWORD (the page's flow)
  local_cognito.py user URL POOL_ID CLIENT EMAIL
                                     a second account with that verified email
                                     (made if missing, new password each time);
                                     prints its access token (make contract)

The browser test (tests/browser/tokens_page.py) imports it for a second pool.

The app client allows USER_PASSWORD_AUTH, as in AWS: the page sends the
password to Cognito over HTTPS (never to the API). moto's USER_SRP_AUTH
accepts any password proof, so SRP could not be tested honestly here.
"""

import json
import os
import secrets
import sys
import urllib.request

import boto3

POOL_NAME = "app-upgrade-local-accounts"
DEMO_USER = "demo@example.com"

# Never send local traffic through an HTTP(S)_PROXY from the environment.
urlopen = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def client(url):
    return boto3.client(
        "cognito-idp",
        endpoint_url=url,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def password():
    # Meets template.yaml's policy: 12+ characters, upper, lower, digit, symbol.
    return f"Demo-{secrets.token_urlsafe(12)}-9a"


def create_pool(idp, name, username):
    pool = idp.create_user_pool(
        PoolName=name,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireLowercase": True,
                "RequireUppercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )["UserPool"]["Id"]
    app = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName=f"{name}-dashboard",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]["ClientId"]
    secret = password()
    idp.admin_create_user(
        UserPoolId=pool,
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": username},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    # Permanent: the demo skips the first sign-in's new-password step.
    idp.admin_set_user_password(
        UserPoolId=pool, Username=username, Password=secret, Permanent=True
    )
    attributes = idp.admin_get_user(UserPoolId=pool, Username=username)["UserAttributes"]
    sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
    region = idp.meta.region_name
    return {
        "userPoolId": pool,
        "clientId": app,
        "issuer": f"https://cognito-idp.{region}.amazonaws.com/{pool}",
        "username": username,
        "password": secret,
        "sub": sub,
    }


def main(cmd, url, *args):
    idp = client(url)
    if cmd == "setup":
        # One demo pool per emulator: drop a leftover from an earlier seed.
        for pool in idp.list_user_pools(MaxResults=60)["UserPools"]:
            if pool["Name"] == POOL_NAME:
                idp.delete_user_pool(UserPoolId=pool["Id"])
        json.dump(create_pool(idp, POOL_NAME, DEMO_USER), sys.stdout)
        return 0
    if cmd == "jwks" and len(args) == 1:
        with urlopen(f"{url.rstrip('/')}/{args[0]}/.well-known/jwks.json", timeout=5) as resp:
            keys = json.load(resp)
        if not keys.get("keys"):
            sys.exit(f"no keys at {url} for pool {args[0]}")
        json.dump(keys, sys.stdout, separators=(",", ":"))
        return 0
    if cmd == "signin" and len(args) == 1:
        # The page's own flow; the credentials come from the environment
        # (APP_UPGRADE_USERNAME, APP_UPGRADE_PASSWORD), never argv.
        result = idp.initiate_auth(
            ClientId=args[0],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={
                "USERNAME": os.environ["APP_UPGRADE_USERNAME"],
                "PASSWORD": os.environ["APP_UPGRADE_PASSWORD"],
            },
        )
        print(result["AuthenticationResult"]["AccessToken"])
        return 0
    if cmd == "user" and len(args) == 3:
        pool, app, email = args
        try:
            idp.admin_get_user(UserPoolId=pool, Username=email)
        except idp.exceptions.UserNotFoundException:
            idp.admin_create_user(
                UserPoolId=pool,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
        secret = password()
        idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=secret, Permanent=True)
        result = idp.initiate_auth(
            ClientId=app,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": secret},
        )
        print(result["AuthenticationResult"]["AccessToken"])
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
