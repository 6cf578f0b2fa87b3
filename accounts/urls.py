from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import LoginForm

app_name = "accounts"

urlpatterns = [
    path(
        "logga-in/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisation/", views.switch_organisation, name="switch_organisation"),
    path("fortsatt-arbeta/", views.keep_alive, name="keep_alive"),
    path("sekretessforbindelse/", views.agreement, name="agreement"),
    path("roller/", views.roles_index, name="roles_index"),
    path("roller/<int:organisation_id>/", views.roles, name="roles"),
    path(
        "roller/anstallning/<int:employment_id>/", views.employment_roles, name="employment_roles"
    ),
]
