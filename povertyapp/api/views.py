"""The API's own endpoints: API tokens (povertyapp/tokens) — issue, list, revoke."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from povertyapp import tokens
from povertyapp.http import AuthenticatedRequest
from povertyapp.security import passwords, second_factor


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="The authenticator's 6-digit code or a backup code: required for the roles "
        "that must use two-factor sign-in and for every user who enrolled a device",
    )


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The secret: send it as `Authorization: Token <token>`")
    expiry = serializers.DateTimeField(help_text="When the token stops working (ISO 8601)")


class TokenInfoSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="token_key", read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthToken
        fields = ["prefix", "created", "expiry", "current"]

    def get_current(self, token: AuthToken) -> bool:
        current = self.context.get("current")
        return current is not None and current.pk == token.pk


_MESSAGE = inline_serializer("TokenMessage", {"detail": serializers.CharField()})


class ObtainTokenApi(APIView):
    """POST username and password; returns a new API token and when it expires."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        request=CredentialsSerializer,
        responses={
            200: IssuedTokenSerializer,
            400: OpenApiResponse(description="用户名或密码错误，或令牌数已达上限"),
            429: OpenApiResponse(_MESSAGE, description="账号因连续登录失败已暂时锁定"),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        # The Django request, not DRF's wrapper: django-axes counts the failure against it and
        # marks a lockout on it, exactly as for the sign-in form.
        http_request = request._request
        user = authenticate(
            request=http_request, username=username, password=serializer.validated_data["password"]
        )
        if getattr(http_request, "axes_locked_out", False):
            # Answer the API client in JSON here, rather than with the lockout page
            # AxesMiddleware would put in place of this response.
            http_request.__dict__["axes_locked_out"] = False
            locked = _(
                "由于连续多次登录失败，该账号已被暂时锁定。请稍后再试，或联系系统管理员解锁。"
            )
            return Response({"detail": locked}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if user is None:
            # The failure is audited by povertyapp.audit_events (user_login_failed).
            raise serializers.ValidationError(
                {"non_field_errors": [_("用户名或密码错误，或账号已停用。请检查后重试。")]},
                code="authorization",
            )
        # The same sign-in steps as the pages (issue 14, 身份鉴别): an expired password is
        # changed on the pages first, and the second factor is owed here too.
        if passwords.password_expired(user):
            raise serializers.ValidationError(
                {"non_field_errors": [_("密码已过期：请先登录网页修改密码，再获取令牌。")]},
                code="password_expired",
            )
        if second_factor.owed_for_token(user):
            try:
                second_factor.verify_for_token(
                    request=http_request, user=user, code=serializer.validated_data.get("otp", "")
                )
            except DjangoValidationError as error:
                raise serializers.ValidationError(
                    {"otp": error.messages}, code=error.code
                ) from error
        instance, secret = tokens.token_issue(user=user, request=http_request)
        return Response({"token": secret, "expiry": instance.expiry})


class TokenListApi(APIView):
    """The signed-in user's unexpired API tokens: prefix, created, expiry; never the secret."""

    pagination_class = None

    @extend_schema(responses={200: TokenInfoSerializer(many=True)})
    def get(self, request: AuthenticatedRequest) -> Response:
        current = request.auth if isinstance(request.auth, AuthToken) else None
        serializer = TokenInfoSerializer(
            tokens.tokens_for_user(user=request.user), many=True, context={"current": current}
        )
        return Response(serializer.data)


class TokenRevokeApi(APIView):
    """Revoke one of the user's own tokens, named by its prefix."""

    @extend_schema(
        request=None,
        responses={204: None, 404: OpenApiResponse(_MESSAGE, description="没有这个令牌")},
    )
    def delete(self, request: AuthenticatedRequest, prefix: str) -> Response:
        if not tokens.token_revoke(user=request.user, prefix=prefix, request=request._request):
            raise NotFound(_("您没有这个API令牌（可能已过期或已吊销）。"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenLogoutApi(APIView):
    """Revoke the token this request is authenticated with."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: AuthenticatedRequest) -> Response:
        assert isinstance(request.auth, AuthToken)  # TokenAuthentication + IsAuthenticated
        tokens.token_revoke_current(token=request.auth, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenLogoutAllApi(APIView):
    """Revoke every token of the signed-in user."""

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("TokensRevoked", {"revoked": serializers.IntegerField()})
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        revoked = tokens.token_revoke_all(user=request.user, request=request._request)
        return Response({"revoked": revoked})
