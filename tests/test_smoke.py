import pytest


@pytest.mark.django_db
def test_home_page_shows_the_article_introduction(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "not all facials work the same way" in response.content.decode()
