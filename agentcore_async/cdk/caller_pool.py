"""A Cognito user pool and app client whose access tokens may call the stage's runtime (``auth=jwt``).

Users are created by an administrator (no self sign-up) and sign in with ``USER_PASSWORD_AUTH`` or
SRP through the app client, which has no secret so the CLI and scripts can use it, and no OAuth flow,
scope or callback URL (nothing signs in through the hosted UI). Its access
tokens carry ``client_id`` (checked by the runtime's ``allowedClients``) and ``sub`` (the identity
the agent binds tasks to); they live one hour.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from agentcore_async.cdk.nag import acknowledge

ACCESS_TOKEN_HOURS: Final = 1


class CallerPool(Construct):
    """The stage's identity provider for callers of its runtime."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pool_name: str,
        removal_policy: RemovalPolicy,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.pool = cognito.UserPool(
            self,
            "Pool",
            user_pool_name=pool_name,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        self.client = self.pool.add_client(
            "Cli",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            # Sign-in goes through the API only; CDK's default would allow implicit and code grants
            # to a placeholder callback (https://example.com) and the hosted UI's scopes.
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(ACCESS_TOKEN_HOURS),
            id_token_validity=Duration.hours(ACCESS_TOKEN_HOURS),
        )
        acknowledge(
            self.pool,
            "AwsSolutions-COG2",
            "callers are users an administrator creates for one runtime and scripts signing in with "
            "USER_PASSWORD_AUTH; TOTP MFA is offered (optional), and an identity provider that enforces "
            "MFA plugs in with -c jwt_discovery_url",
        )
        acknowledge(
            self.pool,
            "AwsSolutions-COG8",
            "the Plus feature plan (threat protection, billed per monthly active user) is out of scope "
            "for a stage's handful of admin-created callers; sign-up is disabled",
        )
